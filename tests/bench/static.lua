-- static.lua - wrk script for the nginx reference: GET of a static 2 KB
-- JSON file, through the same Lua hooks as the gateway runs (a ready-made
-- request, response() counting non-2xx answers), so that wrk does the same
-- work on its side in every run.
--
--   wrk ... -s static.lua URL -- - NTHREADS PATH

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
    common.init(args)
    next_request = common.rotation({
        wrk.format("GET", args[3] or "/dossier.json", {["Accept"] = "application/json"}),
    })
end
