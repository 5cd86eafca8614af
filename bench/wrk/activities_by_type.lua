-- GET /activities?type=T&pageSize=100 for a random type and one of the first
-- ten pages. The types are the generator's: order (about 74% of the
-- activities), cancellation (16%), login (5%).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local types = {"order", "cancellation", "login"}

function request()
  return wrk.format("GET", common.prefix .. "/activities?type=" ..
                    types[math.random(1, #types)] .. "&page=" .. math.random(1, 10) ..
                    "&pageSize=100")
end
