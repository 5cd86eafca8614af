-- GET /customers/{id}?includeActivities=true for a random existing customer:
-- the customer with all of its activities (10 on average at the default data
-- shape, a heavy tail up to a few hundred).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  return wrk.format("GET", common.prefix .. "/customers/" .. common.random_id() ..
                    "?includeActivities=true")
end
