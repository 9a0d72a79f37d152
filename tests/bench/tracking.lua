-- tracking.lua - wrk script: citizens look at their dossier.
--
-- GET /api/v1/dossiers/{id}, each request as one of this thread's logged-in
-- citizens (session cookie) asking for that citizen's own dossier (made by
-- tests/bench/run before the run), rotating through them.
--
--   wrk ... -s tracking.lua URL -- SESSIONS_FILE NTHREADS

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
    local reqs = {}
    for _, s in ipairs(common.init(args)) do
        reqs[#reqs + 1] = wrk.format("GET", "/api/v1/dossiers/" .. s.id, {
            ["Cookie"] = s.cookie,
            ["Accept"] = "application/json",
        })
    end
    next_request = common.rotation(reqs)
end
