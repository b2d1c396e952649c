-- Upgrade of an installed pg_dash 0.1.0 for the Taipy page language
-- (binding expressions, warnings), to be merged into
-- sql/pg_dash--0.1.0--0.2.0.sql.

-- page_list shows the warnings of each page.
CREATE OR REPLACE VIEW pg_dash.page_list AS
SELECT p.path, p.title, p.description, p.bindings, p.actions,
       octet_length(p.source) AS source_bytes, p.created_at, p.updated_at,
       COALESCE(p.tree -> 'warnings', '[]'::jsonb) AS warnings
FROM pg_dash.pages p;
COMMENT ON VIEW pg_dash.page_list IS 'Dashboard pages: path, title, the names they bind, the actions they call and the warnings of their source';

-- The stored trees change form (expressions, warnings): parse every page
-- again.  A page the new parser refuses keeps its old tree, with a warning.
DO $$
DECLARE
    pg record;
BEGIN
    FOR pg IN SELECT path, source, title, description FROM pg_dash.pages ORDER BY path LOOP
        BEGIN
            PERFORM pg_dash.define_page(pg.path, pg.source, pg.title, pg.description);
        EXCEPTION WHEN syntax_error THEN
            RAISE WARNING 'page "%" was not converted: %', pg.path, SQLERRM;
        END;
    END LOOP;
END
$$;
