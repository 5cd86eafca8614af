-- GET /deletions?entityType=activities: the whole deletions feed of
-- activities, streamed in one response (run with one connection).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

wrk.method = "GET"
wrk.path = common.prefix .. "/deletions?entityType=activities"
