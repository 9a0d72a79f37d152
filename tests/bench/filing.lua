-- filing.lua - wrk script: citizens file dossiers.
--
-- POST /api/v1/dossiers with the body of the body file (a valid
-- "tranquillite-vacances" form of about 2 KB, submit=true), each request as
-- one of this thread's logged-in citizens (session cookie + X-CSRF-Token),
-- rotating through them. A 201 is a success; anything else is counted.
--
--   wrk ... -s filing.lua URL -- SESSIONS_FILE NTHREADS BODY_FILE

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
end
