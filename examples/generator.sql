-- examples/generator.sql: the demo's data generator, inside the database.
--
-- CALL demo.generate() runs until it is stopped (or for `seconds`): once a
-- second it calls each dashboard's tick function (new orders, user events,
-- system metrics, sensor readings, the sensor retention job) and commits,
-- so every second's rows become visible, and their triggers' announcements
-- reach the browsers, together.  scripts/demo.sh starts it in a background
-- psql session (application_name pg_dash_demo_generator) and stops it by
-- ending that session.
--
-- A tick that fails (say, a dashboard file being reloaded) is reported as
-- a WARNING and skipped; the generator goes on.

CREATE OR REPLACE PROCEDURE demo.generate(seconds integer DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    ticks bigint := 0;
    next_at timestamptz := clock_timestamp();
    tick text;
BEGIN
    LOOP
        FOREACH tick IN ARRAY ARRAY['demo.tick_sales', 'demo.tick_retention',
                                    'demo.tick_monitoring', 'demo.tick_iot'] LOOP
            BEGIN
                IF to_regproc(tick) IS NOT NULL THEN
                    EXECUTE format('SELECT %s()', tick);
                END IF;
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'demo.generate: % failed: %', tick, SQLERRM;
            END;
        END LOOP;
        COMMIT;
        ticks := ticks + 1;
        EXIT WHEN seconds IS NOT NULL AND ticks >= seconds;
        -- Sleep until the next whole second of the schedule (catch up
        -- without piling up when a tick took longer than a second).
        next_at := greatest(next_at + interval '1 second', clock_timestamp());
        PERFORM pg_sleep(extract(epoch FROM next_at - clock_timestamp()));
    END LOOP;
END
$$;

COMMENT ON PROCEDURE demo.generate(integer) IS
    'The demo''s live data: one tick a second, committed (examples/generator.sql)';
