-- wrk script for session_state: each request picks one of the sessions in
-- BENCH_COOKIES (a file, a line per session: the pg_dash_session value and
-- its CSRF token) at random, so concurrent requests seldom touch the same
-- session row.
-- BENCH_METHOD=PATCH sends a JSON merge patch to /api/state;
-- BENCH_METHOD=GET reads /api/state.
local method = os.getenv("BENCH_METHOD") or "GET"
local file = os.getenv("BENCH_COOKIES")
local cookies = {}

for line in io.lines(file) do
   local token, csrf = line:match("^(%S+) (%S+)$")
   if token then cookies[#cookies + 1] = { token = token, csrf = csrf } end
end

function setup(thread)
   thread:set("seed", math.random(1, 1000000))
end

function init(args)
   math.randomseed(seed + os.time())
end

local n = 0
function request()
   n = n + 1
   local c = cookies[math.random(1, #cookies)]
   local headers = { ["Cookie"] = "pg_dash_session=" .. c.token .. "; pg_dash_csrf=" .. c.csrf }
   if method == "PATCH" then
      headers["Content-Type"] = "application/json"
      headers["X-CSRF-Token"] = c.csrf
      local body = '{"region":"North","counter":' .. n .. ',"filters":{"product":"p' .. (n % 50) .. '"}}'
      return wrk.format("PATCH", "/api/state", headers, body)
   end
   return wrk.format("GET", "/api/state", headers)
end
