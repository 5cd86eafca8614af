-- POST /activities: a new activity for a random customer, with an a_id that
-- is unique in the run, so every request creates a row (201).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  local body = string.format(
      '{"customerId":%d,"type":"bench-order","activityDate":%d,"a_id":"%s",' ..
      '"attributes":{"currency":"GBP","itemCount":2,"total":20.4,"items":[' ..
      '{"stockCode":"85123A","description":"WHITE HANGING HEART T-LIGHT HOLDER",' ..
      '"unitPrice":2.55,"quantity":6},{"stockCode":"22423",' ..
      '"description":"REGENCY CAKESTAND 3 TIER","unitPrice":5.1,"quantity":1}]}}',
      common.random_id(), 1700000000 + math.random(0, 10000000), common.unique())
  return wrk.format("POST", common.prefix .. "/activities", nil, body)
end
