-- GET /customers?page=CMFD_BENCH_DEEP_PAGE&pageSize=100: a page deep in the
-- customer list (page 5000 at reference scale, the deepest full page at
-- smaller scales).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

wrk.method = "GET"
wrk.path = common.prefix .. "/customers?page=" .. common.deep_page .. "&pageSize=100"
