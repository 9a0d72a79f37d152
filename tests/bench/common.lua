-- common.lua - what the wrk scripts of tests/bench share (loaded by dofile
-- from filing.lua, tracking.lua and static.lua, in each Lua state of wrk).
--
-- wrk runs one Lua state per thread plus a main state. For each thread, in
-- order, it calls setup(thread) in the main state and then init(args) in the
-- thread's state, before the thread starts; done() runs in the main state
-- at the end. So:
--   setup  numbers the threads (global thread_index in each thread state)
--          and keeps them for done();
--   init   reads the sessions file written by tests/bench/run and keeps
--          the sessions of this thread (every nthreads-th one), then the
--          script builds one ready-made request per session;
--   request rotates through those requests (one session after the other);
--   response counts the answers that are not 2xx (and keeps the first one);
--   done   adds up every thread's counts and prints "BENCH ..." lines that
--          tests/bench/run reads next to wrk's own report.
--
-- Arguments after "--" on wrk's command line: sessions file ("-" = none),
-- number of threads, then what the script needs (body file).

local M = {}

function M.read_file(path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    return text
end

-- ---- main state -----------------------------------------------------------

local threads = {}

function M.setup(thread)
    thread:set("thread_index", #threads)
    threads[#threads + 1] = thread
end

local function one_line(text)
    return (tostring(text or ""):gsub("[\r\n\t]", " "))
end

function M.done(summary, latency, requests)
    local non2xx, codes, first = 0, {}, ""
    for _, thread in ipairs(threads) do
        non2xx = non2xx + (thread:get("bench_non2xx") or 0)
        local tc = thread:get("bench_codes") or {}
        for code, n in pairs(tc) do
            codes[code] = (codes[code] or 0) + n
        end
        local f = thread:get("bench_first") or ""
        if first == "" and f ~= "" then
            first = f
        end
    end
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d "
            .. "timeout=%d status=%d p50_us=%d p99_us=%d max_us=%d\n",
        summary.requests, summary.duration, non2xx, e.connect, e.read, e.write,
        e.timeout, e.status, latency:percentile(50), latency:percentile(99),
        latency.max))
    local parts = {}
    for code, n in pairs(codes) do
        parts[#parts + 1] = code .. ":" .. n
    end
    table.sort(parts)
    io.write("BENCH codes " .. table.concat(parts, ",") .. "\n")
    io.write("BENCH first_error " .. one_line(first) .. "\n")
end

-- ---- thread states ----------------------------------------------------------

-- The sessions of this thread: every nthreads-th of the file, starting at
-- this thread's index (at least one, wrapping if there are more threads
-- than sessions). Each is {cookie=..., csrf=..., id=...}.
function M.init(args)
    bench_non2xx = 0
    bench_codes = {}
    bench_first = ""
    local path = args[1]
    if path == nil or path == "-" then
        return {}
    end
    local all = dofile(path)
    local nthreads = tonumber(args[2]) or 1
    local mine = {}
    for index, session in ipairs(all) do
        if (index - 1) % nthreads == thread_index then
            mine[#mine + 1] = session
        end
    end
    if #mine == 0 and #all > 0 then
        mine[1] = all[(thread_index % #all) + 1]
    end
    return mine
end

function M.response(status, headers, body)
    if status < 200 or status > 299 then
        bench_non2xx = bench_non2xx + 1
        local key = tostring(status)
        bench_codes[key] = (bench_codes[key] or 0) + 1
        if bench_first == "" then
            bench_first = status .. " " .. string.sub(body or "", 1, 300)
        end
    end
end

-- A request() that rotates through the ready-made requests.
function M.rotation(reqs)
    local n, i = #reqs, 0
    assert(n > 0, "no request to send")
    return function()
        i = i % n + 1
        return reqs[i]
    end
end

return M
