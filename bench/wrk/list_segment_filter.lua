-- GET /customers?segments=S&pageSize=100 with a random segment S: the first
-- page of the customers in one segment. Segment sizes are skewed, from about
-- 1% to 10% of the customers.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  return wrk.format("GET", common.prefix .. "/customers?segments=" ..
                    math.random(1, common.segments) .. "&pageSize=100")
end
