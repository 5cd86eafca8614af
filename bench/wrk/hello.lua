-- Baseline: GET /customers/{id} with a random id against cmfd_hello_baseline,
-- which answers every GET with the same 400-byte body. The request is built
-- by Lua as in get_customer.lua, so that wrk spends the same work per request
-- in both and their ratio compares the servers alone.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  return wrk.format("GET", common.prefix .. "/customers/" .. common.random_id())
end
