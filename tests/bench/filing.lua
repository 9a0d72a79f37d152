-- filing.lua - wrk script: citizens file dossiers.
--
-- POST /api/v1/dossiers with the body of the body file (a valid
-- "tranquillite-vacances" form of about 2 KB, submit=true), each request as
-- one of this thread's logged-in citizens (session cookie + X-CSRF-Token),
-- rotating through them. A 201 is a success; anything else is counted.
--
--   wrk ... -s filing.lua URL -- SESSIONS_FILE NTHREADS BODY_FILE [PACE_MS]
--
-- PACE_MS > 0: each connection waits a random time of that mean before
-- each request (the paced run: a load below saturation, to see latency
-- without the queueing of a saturated machine).

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
                      .. "common.lua")

setup = common.setup
response = common.response
done = common.done

local next_request

function request()
    return next_request()
end

function init(args)
    local body = common.read_file(args[3])
    local reqs = {}
    for _, s in ipairs(common.init(args)) do
        reqs[#reqs + 1] = wrk.format("POST", "/api/v1/dossiers", {
            ["Cookie"] = s.cookie,
            ["X-CSRF-Token"] = s.csrf,
            ["Content-Type"] = "application/json",
            ["Accept"] = "application/json",
        }, body)
    end
    next_request = common.rotation(reqs)
    local pace_ms = tonumber(args[4] or "0") or 0
    if pace_ms > 0 then
        -- Exponential waits of mean pace_ms: the connections' requests
        -- make a Poisson stream, as independent citizens would (fixed
        -- waits keep the connections in step: bursts of 64 at once).
        -- wrk looks for delay() after init, in the first thread's state.
        math.randomseed(os.time() + (thread_index or 0))
        function delay()
            return math.floor(-pace_ms * math.log(1 - math.random()))
        end
    end
end
