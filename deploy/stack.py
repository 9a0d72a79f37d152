#!/usr/bin/env python3
"""stack - start and stop the whole Guichet stack on one machine.

One module for `make run` (deploy/run.sh) and for the tests (tests/run), so
the two never drift. Python 3 standard library only.

    from stack import Stack
    with Stack(root_dir, build_dir="build", settings={...}) as st:
        st.start_all()              # postgres, redis, smtp, bus, services, gateway
        st.psql("SELECT count(*) FROM accounts.account")
        h = st.find("svc-notify")[0]; st.kill(h); st.start_service("notify", 1)
    # leaving the block stops everything; st.problems lists what went wrong

Layout under root_dir:
    pg/          PostgreSQL cluster (data/, postgres.log, unix socket), owned
                 by user postgres when we are root
    redis/       Redis working folder (nothing is saved)
    mail/        one .eml file per message caught by deploy/smtp_catcher.py
    logs/        <process>-<instance>.log, stdout+stderr of every process
    run/         pid files and state.json (run mode only)

Ports: given (ports={...} or base_port=N: N..N+5) or free ones found by
binding 127.0.0.1:0. Keys: pg, redis, smtp, mail_http, bus, http.

As root, the PostgreSQL tools run as user postgres through `runuser`
(initdb refuses root); the cluster uses trust authentication, on 127.0.0.1
only. The Debian system cluster (if the package created one) is not touched.

Under sanitizers (make SANITIZE=...) and valgrind (GCH_VALGRIND=1, or any
prefix in GCH_WRAPPER), stop() reads every log and exit status: a sanitizer
report, a valgrind error exit, a C process that exits non-zero on SIGTERM or
dies on its own is recorded in self.problems, and tests/run fails the run.

Command line (used by deploy/run.sh):
    stack.py run  --root var --build build   start detached, load demo, print URLs
    stack.py stop --root var                 stop what `run` started
    stack.py status --root var
"""

import argparse
import hashlib
import http.client
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ["accounts", "dossiers", "documents", "notify", "finance"]
PG_BIN = "/usr/lib/postgresql/15/bin"
PORT_KEYS = ["pg", "redis", "smtp", "mail_http", "bus", "http"]

# Ports of `make run`, each overridable by the environment variable named.
RUN_PORTS = {
    "http": ("GCH_HTTP_PORT", 8080),
    "smtp": ("GCH_SMTP_PORT", 2525),
    "mail_http": ("GCH_MAIL_HTTP_PORT", 8025),
    "bus": ("GCH_BUS_PORT", 5670),
    "pg": ("GCH_PG_PORT", 5433),
    "redis": ("GCH_REDIS_PORT", 6380),
}

SANITIZER_MARKS = ["ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                   "ERROR: UndefinedBehaviorSanitizer"]

DEMO_CITIZEN = ("usager@demo.guichet.fr", "Usager-demo-2026", "Camille Usager")
DEMO_AGENT = ("agent@demo.guichet.fr", "Agent-demo-2026", "Dominique Agent",
              "instructeur", "police-municipale")
# More demo agents, so that every service of the catalog has someone to
# process its dossiers: (email, password, name, roles, services).
DEMO_AGENTS = [
    ("mobilites@demo.guichet.fr", "Agent-demo-2026", "Sacha Mobilités",
     ["instructeur", "valideur"], ["mobilites-stationnement"]),
    ("enfance@demo.guichet.fr", "Agent-demo-2026", "Noa Enfance",
     ["instructeur", "valideur", "regisseur"], ["education-enfance"]),
    ("mairie@demo.guichet.fr", "Agent-demo-2026", "Alix Mairie",
     ["instructeur", "valideur", "accueil"],
     ["etat-civil", "elections", "formalites", "relation-usagers", "vie-associative"]),
    ("proprete@demo.guichet.fr", "Agent-demo-2026", "Charlie Propreté",
     ["instructeur", "agent_terrain"],
     ["dechets", "proprete-urbaine", "voirie-espace-public"]),
]


class StackError(Exception):
    pass


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held together while chosen)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path, lines=40):
    """Last lines of a text file, or a note that it is missing."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s: %s)" % (path, e)
    return "\n".join(text.splitlines()[-lines:])


def _proc_start_time(pid):
    """Start time of a process (clock ticks since boot), None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return int(data.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _aiosmtpd_python():
    """A Python interpreter that has aiosmtpd (Debian's python3-aiosmtpd)."""
    for cand in ["/usr/bin/python3", sys.executable, shutil.which("python3")]:
        if cand and os.path.exists(cand):
            r = subprocess.run([cand, "-c", "import aiosmtpd"], capture_output=True)
            if r.returncode == 0:
                return cand
    raise StackError("no python3 with aiosmtpd: apt-get install python3-aiosmtpd "
                     "(bash deploy/install-deps.sh)")


class Proc:
    """One process the stack started: a handle tests can kill and replace."""

    def __init__(self, name, instance, popen, log_path, cmd, critical=True):
        self.name = name            # "svc-notify", "guichet-gateway", "redis", ...
        self.instance = instance    # 0, 1, ... (several instances of a service)
        self.popen = popen
        self.pid = popen.pid
        self.log_path = log_path
        self.cmd = cmd
        self.critical = critical    # a C binary of ours: exit status is checked
        self.killed = False         # signalled on purpose by Stack.kill
        self.stopping = False       # being stopped by Stack.stop

    def alive(self):
        return self.popen.poll() is None

    def __repr__(self):
        return "<%s-%d pid %d>" % (self.name, self.instance, self.pid)


class Stack:
    """The whole stack on this machine, on given or free loopback ports."""

    def __init__(self, root_dir, build_dir="build", ports=None, base_port=None,
                 public_url=None, settings=None, detach=False, ephemeral=False):
        self.root = os.path.abspath(root_dir)
        self.build = build_dir if os.path.isabs(build_dir) else os.path.join(REPO, build_dir)
        self.bin = os.path.join(self.build, "bin")
        self.detach = detach            # run mode: processes outlive this Python
        self.ephemeral = ephemeral      # temp dir: faster initdb (no fsync of it)
        ports = dict(ports or {})
        if base_port:
            for i, k in enumerate(PORT_KEYS):
                ports.setdefault(k, base_port + i)
        need = [k for k in PORT_KEYS if not ports.get(k)]
        for k, p in zip(need, free_ports(len(need))):
            ports[k] = p
        self.ports = ports
        self.public_url = public_url or "http://127.0.0.1:%d" % ports["http"]
        self.url = "http://127.0.0.1:%d" % ports["http"]
        self.mail_url = "http://127.0.0.1:%d/" % ports["mail_http"]
        self.maildir = os.path.join(self.root, "mail")
        self.logdir = os.path.join(self.root, "logs")
        self.rundir = os.path.join(self.root, "run")
        self.procs = []                 # every Proc started, in order
        self.problems = []              # found at stop: tests/run fails on any
        self.pg_started = False
        self.is_root = os.geteuid() == 0
        self.as_pg = ["runuser", "-u", "postgres", "--"] if self.is_root else []
        self.pg_base = None
        # Settings every process gets (the defaults of docs/architecture.md,
        # with the test harness' overrides on top).
        self.settings = {
            "GCH_BUS": "tcp://127.0.0.1:%d" % ports["bus"],
            "GCH_BUS_BIND": "tcp://127.0.0.1:%d" % ports["bus"],
            "GCH_SMTP_URL": "smtp://127.0.0.1:%d" % ports["smtp"],
            "GCH_PUBLIC_URL": self.public_url,
            "GCH_HTTP_ADDR": "127.0.0.1",
            "GCH_HTTP_PORT": str(ports["http"]),
            "GCH_REDIS": "127.0.0.1:%d" % ports["redis"],
            "GCH_WWW": os.path.join(REPO, "gateway", "www"),
            "GCH_CATALOG": os.path.join(REPO, "svc-dossiers", "catalog"),
            "GCH_RETRY_MAX_MS": "60000",
            "GCH_POLL_MS": "200",
            "GCH_TIMEOUT_MS": "5000",
            "GCH_BODY_LIMIT": "65536",
            "GCH_LOGIN_LIMIT": "10",
            "GCH_SIGNUP_LIMIT": "20",
        }
        self.settings.update(settings or {})
        wrapper = os.environ.get("GCH_WRAPPER", "")
        self.valgrind = os.environ.get("GCH_VALGRIND") == "1"
        if self.valgrind and not wrapper:
            wrapper = "valgrind --error-exitcode=1 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=30"
            supp = os.path.join(REPO, "tests", "valgrind.supp")
            if os.path.exists(supp):
                wrapper += " --suppressions=" + supp
        self.wrapper = shlex.split(wrapper)
        self.slow = bool(self.wrapper)  # valgrind: everything takes longer
        self.stop_timeout = 180 if self.slow else 15
        for d in (self.root, self.maildir, self.logdir, self.rundir):
            os.makedirs(d, exist_ok=True)

    # ---- helpers -------------------------------------------------------

    def setting(self, name):
        return self.settings[name]

    def bin_path(self, name):
        path = os.path.join(self.bin, name)
        if not os.access(path, os.X_OK):
            raise StackError("%s is missing: build it first (make)" % path)
        return path

    def _env(self, extra=None):
        env = dict(os.environ)
        env.update(self.settings)
        env.setdefault("ASAN_OPTIONS",
                       "detect_leaks=1:abort_on_error=1:halt_on_error=1:disable_coredump=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        lsan_supp = os.path.join(REPO, "tests", "lsan.supp")
        if os.path.exists(lsan_supp):
            env.setdefault("LSAN_OPTIONS", "suppressions=" + lsan_supp)
        env.update(extra or {})
        return env

    def _spawn(self, name, instance, cmd, env, critical=True, cwd=REPO):
        log_path = os.path.join(self.logdir, "%s-%d.log" % (name, instance))
        log = open(log_path, "ab")
        log.write(("==== %s start %s: %s\n" % (
            time.strftime("%H:%M:%S"), name, " ".join(cmd))).encode())
        log.flush()
        popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                 start_new_session=True)
        log.close()
        proc = Proc(name, instance, popen, log_path, cmd, critical)
        self.procs.append(proc)
        if self.detach:
            self._write_pid(proc)
        return proc

    def _write_pid(self, proc):
        path = os.path.join(self.rundir, "%s-%d.pid" % (proc.name, proc.instance))
        with open(path, "w") as f:
            f.write("%d %s\n" % (proc.pid, _proc_start_time(proc.pid)))

    def _wait_port(self, port, proc=None, timeout=30, what=""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and not proc.alive():
                raise StackError("%s exited (%s) before listening on %d:\n%s" % (
                    proc.name, proc.popen.returncode, port, tail(proc.log_path)))
            if port_open(port):
                return
            time.sleep(0.05)
        raise StackError("%s not listening on port %d after %ds:\n%s" % (
            what or (proc and proc.name), port, timeout,
            tail(proc.log_path) if proc else ""))

    def find(self, name, alive=True):
        """Handles of processes called name (alive ones by default)."""
        return [p for p in self.procs if p.name == name and (p.alive() or not alive)]

    # ---- PostgreSQL ----------------------------------------------------

    def _pg_can_reach(self, path):
        if not self.is_root:
            return True
        r = subprocess.run(self.as_pg + ["test", "-x", path], capture_output=True)
        return r.returncode == 0

    def _pg_dirs(self):
        """The cluster's folder: root/pg, or, when user postgres cannot reach
        it (a repository under /root, say), a folder under /var/tmp named
        after root, with root/pg a symbolic link to it."""
        if self.pg_base:
            return self.pg_base
        base = os.path.join(self.root, "pg")
        if os.path.islink(base):
            base = os.readlink(base)
        elif not self._pg_can_reach(self.root):
            digest = hashlib.sha1(self.root.encode()).hexdigest()[:12]
            real = "/var/tmp/guichet-pg-%s" % digest
            os.makedirs(real, exist_ok=True)
            if not os.path.lexists(base):
                os.symlink(real, base)
            base = real
        os.makedirs(base, exist_ok=True)
        if self.is_root:
            pw = pwd.getpwnam("postgres")
            os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o700)
        self.pg_base = base
        return base

    def _pg_run(self, args, check=True, timeout=120):
        r = subprocess.run(self.as_pg + args, capture_output=True, text=True,
                           cwd=self.pg_base or "/", timeout=timeout)
        if check and r.returncode != 0:
            raise StackError("%s failed (%d):\n%s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def pg_conninfo(self, user, db="guichet"):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.ports["pg"], db, user)

    def start_postgres(self):
        base = self._pg_dirs()
        data = os.path.join(base, "data")
        log = os.path.join(base, "postgres.log")
        if not os.path.exists(os.path.join(data, "PG_VERSION")):
            args = [os.path.join(PG_BIN, "initdb"), "-D", data, "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--no-locale"]
            if self.ephemeral:
                args.append("--no-sync")
            self._pg_run(args)
            conf = os.path.join(data, "postgresql.conf")
            with open(conf, "a") as f:
                f.write("\ninclude_if_exists = 'guichet.conf'\n")
        sock = base if len(base) < 80 else ""
        conf = ("# written by deploy/stack.py at each start\n"
                "port = %d\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '%s'\nmax_connections = 200\n"
                "log_min_messages = warning\nlog_line_prefix = '%%m [%%p] %%u@%%d '\n"
                % (self.ports["pg"], sock.replace("'", "''")))
        if self.ephemeral:
            # a throwaway test cluster: durability across an OS crash is moot
            conf += "synchronous_commit = off\nfull_page_writes = off\n"
        with open(os.path.join(data, "guichet.conf"), "w") as f:
            f.write(conf)
        if self.is_root:
            pw = pwd.getpwnam("postgres")
            os.chown(os.path.join(data, "guichet.conf"), pw.pw_uid, pw.pw_gid)
        if port_open(self.ports["pg"]):
            raise StackError("port %d (PostgreSQL) is already in use" % self.ports["pg"])
        self._pg_run([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l", log, "-w",
                      "-t", "60", "start"])
        self.pg_started = True
        link = os.path.join(self.logdir, "postgres.log")
        if not os.path.lexists(link):
            os.symlink(log, link)
        if not self.psql("SELECT 1 FROM pg_database WHERE datname = 'guichet'", db="postgres"):
            self.psql("CREATE DATABASE guichet", db="postgres")
        self.psql_file(os.path.join(REPO, "deploy", "provision.sql"))

    def stop_postgres(self):
        base = self.pg_base or self._pg_dirs()
        data = os.path.join(base, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            self._pg_run([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "fast",
                          "-w", "-t", "60", "stop"], check=False)
        self.pg_started = False

    def psql(self, sql, db="guichet", user="postgres"):
        """Run sql as the superuser (or user); rows as lists of strings."""
        r = subprocess.run(
            [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-F", "\t",
             "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.ports["pg"]),
             "-U", user, "-d", db, "-c", sql],
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise StackError("psql failed: %s\n%s" % (sql, r.stderr.strip()))
        return [line.split("\t") for line in r.stdout.splitlines() if line != ""]

    def psql_value(self, sql, db="guichet"):
        rows = self.psql(sql, db=db)
        return rows[0][0] if rows else None

    def psql_file(self, path, db="guichet", variables=None):
        args = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.ports["pg"]), "-U", "postgres",
                "-d", db, "-f", path]
        for k, v in (variables or {}).items():
            args[1:1] = ["-v", "%s=%s" % (k, v)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise StackError("psql -f %s failed:\n%s%s" % (path, r.stdout, r.stderr))

    # ---- Redis, SMTP, bus ---------------------------------------------

    def start_redis(self):
        d = os.path.join(self.root, "redis")
        os.makedirs(d, exist_ok=True)
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        p = self._spawn("redis", 0, [exe, "--port", str(self.ports["redis"]),
                                     "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--dir", d],
                        self._env(), critical=False)
        self._wait_port(self.ports["redis"], p)
        return p

    def start_smtp(self):
        """Start (or start again) the SMTP catcher on the same ports."""
        exe = _aiosmtpd_python()
        p = self._spawn("smtp", 0, [exe, os.path.join(REPO, "deploy", "smtp_catcher.py"),
                                    "--maildir", self.maildir,
                                    "--port", str(self.ports["smtp"]),
                                    "--http-port", str(self.ports["mail_http"])],
                        self._env(), critical=False)
        self._wait_port(self.ports["smtp"], p)
        self._wait_port(self.ports["mail_http"], p)
        return p

    def stop_smtp(self):
        """Stop the SMTP catcher (tests take mail down for a while)."""
        for p in self.find("smtp"):
            self._terminate([p])

    def start_bus(self):
        env = self._env()
        if self.slow:
            # valgrind: a service busy hashing a password starves its heartbeats
            env["GCH_BUS_LIVENESS_MS"] = "30000"
        p = self._spawn("guichet-bus", 0, [self.bin_path("guichet-bus")], env)
        self._wait_port(self.ports["bus"], p)
        return p

    # ---- services, gateway ---------------------------------------------

    def service_env(self, name):
        return self._env({
            "GCH_DB": self.pg_conninfo("gch_" + name),
            "GCH_SQL_DIR": os.path.join(REPO, "svc-" + name, "sql"),
        })

    def start_service(self, name, instance=None):
        """Start one instance of svc-<name>; returns its handle."""
        if instance is None:
            instance = len([p for p in self.procs if p.name == "svc-" + name])
        cmd = self.wrapper + [self.bin_path("svc-" + name)]
        return self._spawn("svc-" + name, instance, cmd, self.service_env(name))

    def start_gateway(self):
        p = self._spawn("guichet-gateway", 0, [self.bin_path("guichet-gateway")], self._env())
        self._wait_port(self.ports["http"], p, timeout=120 if self.slow else 30)
        return p

    def health(self, timeout=5):
        """(status, parsed JSON or None) of GET /api/v1/health."""
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["http"], timeout=timeout)
        try:
            conn.request("GET", "/api/v1/health")
            resp = conn.getresponse()
            body = resp.read()
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            return resp.status, doc
        finally:
            conn.close()

    def wait_healthy(self, timeout=None):
        """Poll GET /api/v1/health until 200; StackError with log tails if not."""
        timeout = timeout or (240 if self.slow else 60)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            dead = [p for p in self.procs
                    if p.critical and not p.killed and not p.stopping and not p.alive()]
            if dead:
                raise StackError("exited during start: %s\n%s" % (
                    ", ".join("%s-%d (%s)" % (p.name, p.instance, p.popen.returncode)
                              for p in dead), self.log_tails()))
            try:
                status, doc = self.health()
                last = (status, doc)
                if status == 200:
                    return doc
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.2)
        raise StackError("not healthy after %ds (last: %s)\n%s" % (
            timeout, last, self.log_tails()))

    def start_all(self, dossiers_instances=1):
        self.start_postgres()
        self.start_redis()
        self.start_smtp()
        self.start_bus()
        for s in SERVICES:
            self.start_service(s, 0)
        for i in range(1, dossiers_instances):
            self.start_service("dossiers", i)
        self.start_gateway()
        return self.wait_healthy()

    # ---- tools ---------------------------------------------------------

    def ctl(self, *args, check=True, timeout=None):
        """Run guichetctl with GCH_BUS set; CompletedProcess (text)."""
        timeout = timeout or (300 if self.slow else 30)
        r = subprocess.run([self.bin_path("guichetctl")] + list(args), capture_output=True,
                           text=True, env=self._env(), cwd=REPO, timeout=timeout)
        if check and r.returncode != 0:
            raise StackError("guichetctl %s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def account_exists(self, email):
        """True/False from accounts.account, None if that cannot be asked."""
        try:
            rows = self.psql("SELECT 1 FROM accounts.account WHERE lower(email) = lower('%s')"
                             % email.replace("'", "''"))
        except StackError:
            return None
        return bool(rows)

    def create_citizen(self, email, password, name, verified=True):
        args = ["citizen-create", "--email", email, "--password", password, "--name", name]
        if verified:
            args.append("--verified")
        return self.ctl(*args)

    def create_agent(self, email, password, name, role, service):
        return self.ctl("agent-create", "--email", email, "--password", password,
                        "--name", name, "--role", role, "--service", service)

    def load_demo(self):
        """Demo citizen and agent of docs/api.md; skips those already there."""
        email, password, name = DEMO_CITIZEN
        if not self.account_exists(email):
            self.create_citizen(email, password, name, verified=True)
        email, password, name, role, service = DEMO_AGENT
        if not self.account_exists(email):
            self.create_agent(email, password, name, role, service)
        for email, password, name, roles, services in DEMO_AGENTS:
            if not self.account_exists(email):
                args = ["agent-create", "--email", email, "--password", password,
                        "--name", name]
                for role in roles:
                    args += ["--role", role]
                for service in services:
                    args += ["--service", service]
                self.ctl(*args)

    # ---- signals, stop ---------------------------------------------------

    def kill(self, proc, sig=signal.SIGKILL, wait=True):
        """Signal one process on purpose (its exit is then not a problem)."""
        proc.killed = True
        if proc.alive():
            os.kill(proc.pid, sig)
            if wait:
                try:
                    proc.popen.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.popen.wait()

    def _terminate(self, procs):
        for p in procs:
            p.stopping = True
            if p.alive():
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.stop_timeout
        for p in procs:
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                if p.critical and not p.killed:
                    self.problems.append("%s-%d did not stop within %ds of SIGTERM" % (
                        p.name, p.instance, self.stop_timeout))
                os.kill(p.pid, signal.SIGKILL)
                p.popen.wait()
                p.killed = True

    def terminate(self, proc):
        """Stop one process cleanly (SIGTERM, then SIGKILL after the stop
        timeout); a non-zero exit status is reported by stop()."""
        self._terminate([proc])

    def stop(self):
        """Stop every process (gateway, services, bus, smtp, redis, postgres),
        then check exit statuses and logs. Returns self.problems."""
        for p in self.procs:
            if p.critical and not p.killed and not p.alive() and not p.stopping:
                p.died = True       # exited before anyone asked it to
        order = [["guichet-gateway"], ["svc-" + s for s in SERVICES], ["guichet-bus"],
                 ["smtp", "redis"]]
        for names in order:
            self._terminate([p for p in self.procs if p.name in names and p.alive()])
        for p in self.procs:
            if not p.critical or p.killed or p.popen.returncode in (0, None):
                continue
            if getattr(p, "died", False):
                what = "exited on its own with status %s" % p.popen.returncode
            else:
                what = "exited with status %s on SIGTERM" % p.popen.returncode
                if self.wrapper and p.popen.returncode == 1:
                    what += " (valgrind found errors: see the log)"
            self.problems.append("%s-%d %s (%s)" % (p.name, p.instance, what, p.log_path))
        if self.pg_started:
            self.stop_postgres()
        self.problems.extend(self.scan_logs())
        return self.problems

    def scan_logs(self):
        """Sanitizer reports found in the logs of our C processes."""
        found = []
        for p in self.procs:
            if not p.critical:
                continue
            try:
                with open(p.log_path, "r", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        if any(m in line for m in SANITIZER_MARKS):
                            msg = "%s line %d: %s" % (os.path.basename(p.log_path), n,
                                                      line.strip())
                            if msg not in found:
                                found.append(msg)
                            break
            except OSError:
                pass
        return found

    def log_tails(self, lines=25, names=None):
        out = []
        seen = set()
        for p in self.procs:
            if p.log_path in seen or (names and p.name not in names):
                continue
            seen.add(p.log_path)
            out.append("---- %s (last %d lines) ----\n%s" % (p.log_path, lines,
                                                            tail(p.log_path, lines)))
        if self.pg_base:
            out.append("---- postgres.log ----\n" + tail(os.path.join(self.pg_base,
                                                                      "postgres.log"), lines))
        return "\n".join(out)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- run mode (make run / make stop) --------------------------------

    def write_state(self):
        state = {"ports": self.ports, "pg_base": self.pg_base, "url": self.url,
                 "mail_url": self.mail_url, "build": self.build,
                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        with open(os.path.join(self.rundir, "state.json"), "w") as f:
            json.dump(state, f, indent=2)


def _read_pidfiles(rundir):
    """[(name, pid, path)] of the pid files whose process still runs."""
    out = []
    if not os.path.isdir(rundir):
        return out
    for fn in sorted(os.listdir(rundir)):
        if not fn.endswith(".pid"):
            continue
        path = os.path.join(rundir, fn)
        try:
            with open(path) as f:
                pid_s, start_s = f.read().split()
            pid = int(pid_s)
        except (OSError, ValueError):
            os.unlink(path)
            continue
        if str(_proc_start_time(pid)) == start_s:   # same process, not a reused pid
            out.append((fn[:-4], pid, path))
        else:
            os.unlink(path)
    return out


def stop_detached(root):
    """Stop what `stack.py run` started under root: pid files, then pg_ctl."""
    rundir = os.path.join(root, "run")
    live = _read_pidfiles(rundir)
    order = ["guichet-gateway", "svc-", "guichet-bus", "smtp", "redis"]
    stopped = []
    for prefix in order:
        group = [x for x in live if x[0].startswith(prefix)]
        for name, pid, _ in group:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for name, pid, path in group:
            while _proc_start_time(pid) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if _proc_start_time(pid) is not None:
                print("stack: %s (pid %d) did not stop, killing it" % (name, pid))
                os.kill(pid, signal.SIGKILL)
            os.unlink(path)
            stopped.append(name)
    state_path = os.path.join(rundir, "state.json")
    pg_base = None
    if os.path.exists(state_path):
        with open(state_path) as f:
            pg_base = json.load(f).get("pg_base")
    pg_base = pg_base or os.path.join(root, "pg")
    data = os.path.join(pg_base, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_pg + [os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "fast",
                                "-w", "stop"], cwd="/", check=False)
        stopped.append("postgres")
    print("stack: stopped %s" % (", ".join(stopped) if stopped else "nothing (not running)"))


def _run_ports():
    return {k: int(os.environ.get(var, default)) for k, (var, default) in RUN_PORTS.items()}


def run_detached(root, build):
    """make run: start everything under root, detached; demo data; URLs."""
    live = _read_pidfiles(os.path.join(root, "run"))
    if live:
        print("stack: already running (%s); `make stop` first to restart"
              % ", ".join(n for n, _, _ in live))
        _print_banner(_run_ports())
        return 0
    ports = _run_ports()
    busy = [k for k, p in ports.items() if port_open(p)]
    if busy:
        print("stack: ports already in use: %s; set %s to other ports" % (
            ", ".join("%s=%d" % (k, ports[k]) for k in busy),
            " ".join(RUN_PORTS[k][0] for k in busy)), file=sys.stderr)
        return 1
    public = os.environ.get("GCH_PUBLIC_URL")
    settings = {k: v for k, v in os.environ.items()
                if k.startswith("GCH_") and k not in ("GCH_BUS", "GCH_BUS_BIND")}
    st = Stack(root, build, ports=ports, public_url=public, settings=settings, detach=True)
    try:
        st.start_all()
        st.write_state()
        st.load_demo()
    except (StackError, subprocess.SubprocessError, OSError) as e:
        print("stack: start failed: %s" % e, file=sys.stderr)
        print("stack: logs in %s; stopping what was started" % st.logdir, file=sys.stderr)
        st.write_state()
        stop_detached(root)
        return 1
    _print_banner(ports, st.logdir)
    return 0


def _print_banner(ports, logdir=None):
    print("""
Guichet is running.
  Portail usager        http://127.0.0.1:%(http)d/
  API (santé)           http://127.0.0.1:%(http)d/api/v1/health
  Courriels reçus       http://127.0.0.1:%(mail_http)d/   (SMTP de développement, port %(smtp)d)
  PostgreSQL            127.0.0.1:%(pg)d (base guichet, superutilisateur postgres)
  Redis                 127.0.0.1:%(redis)d    Bus tcp://127.0.0.1:%(bus)d

Comptes de démonstration
  usager  %(c_email)s / %(c_pw)s
  agent   %(a_email)s / %(a_pw)s  (police-municipale, instructeur)
%(others)s
""" % dict(ports, c_email=DEMO_CITIZEN[0], c_pw=DEMO_CITIZEN[1],
           a_email=DEMO_AGENT[0], a_pw=DEMO_AGENT[1],
           others="\n".join("  agent   %s / %s  (%s)" % (a[0], a[1], ", ".join(a[4]))
                            for a in DEMO_AGENTS)))
    if logdir:
        print("Logs: %s    Stop: make stop\n" % logdir)


def main():
    ap = argparse.ArgumentParser(description="Start/stop the Guichet stack")
    ap.add_argument("command", choices=["run", "stop", "status"])
    ap.add_argument("--root", default=os.path.join(REPO, "var"))
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if args.command == "run":
        return run_detached(root, args.build)
    if args.command == "stop":
        stop_detached(root)
        return 0
    live = _read_pidfiles(os.path.join(root, "run"))
    for name, pid, _ in live:
        print("%-24s pid %d" % (name, pid))
    if not live:
        print("not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
