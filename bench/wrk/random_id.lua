-- wrk script: GET <BENCH_PATH><random id in 1..BENCH_IDS> on every request,
-- e.g. BENCH_PATH=/api/query/point?id= BENCH_IDS=100000.
local path = os.getenv("BENCH_PATH") or "/api/query/point?id="
local ids = tonumber(os.getenv("BENCH_IDS") or "100000")

function setup(thread)
   thread:set("seed", math.random(1, 1000000))
end

function init(args)
   math.randomseed(seed + os.time())
end

function request()
   return wrk.format("GET", path .. math.random(1, ids))
end
