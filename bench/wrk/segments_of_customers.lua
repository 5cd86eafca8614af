-- POST /segments-of-customers: adds one random segment to a random customer
-- and removes another.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  local add = math.random(1, common.segments)
  local remove = math.random(1, common.segments)
  if remove == add then remove = add % common.segments + 1 end
  local body = string.format('{"customerId":%d,"addSegments":[%d],"removeSegments":[%d]}',
                             common.random_id(), add, remove)
  return wrk.format("POST", common.prefix .. "/segments-of-customers", nil, body)
end
