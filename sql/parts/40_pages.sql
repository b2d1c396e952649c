-- Pages: dashboards written in Taipy's markdown control syntax
-- (docs/page-syntax.md), parsed and validated when saved, served at
-- /api/page/<path> and shown at /p/<path> (docs/pages.md).

-- A page path is 1 to 128 bytes: lower-case segments of letters, digits,
-- '_' and '-' separated by single '/', each starting with a letter or digit
-- ("sales", "ops/disk-usage", "2026/q1").  No leading, trailing or double
-- slash, no dots, no upper case: the path appears as is in URLs.
CREATE TABLE pg_dash.pages (
    path        text PRIMARY KEY
                CHECK (length(path) <= 128
                       AND path ~ '^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$'),
    title       text,
    description text,
    source      text NOT NULL,           -- as written
    tree        jsonb NOT NULL,          -- the parser's tree (docs/page-syntax.md section 8)
    bindings    text[] NOT NULL DEFAULT '{}',  -- every {name} the page uses
    actions     text[] NOT NULL DEFAULT '{}',  -- every on_*= action name
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Who may open it (0.2.0, hence last): role names or PUBLIC.
    access      text[] NOT NULL DEFAULT '{PUBLIC}'
);
CREATE INDEX pages_bindings_idx ON pg_dash.pages USING gin (bindings);
COMMENT ON TABLE pg_dash.pages IS 'Dashboard pages served by pg_dash; change them with define_page() and drop_page()';
SELECT pg_catalog.pg_extension_config_dump('pg_dash.pages', '');

-- Tells every worker, on the primary and (through WAL replay) on hot
-- standbys, that pages changed: browsers showing a changed page reload.
-- A change of a named query a page binds is seen through the same trigger
-- on pg_dash.queries (src/page_ws.c).
CREATE FUNCTION pg_dash.pages_invalidate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_dash_queries_invalidate'
LANGUAGE C;

CREATE TRIGGER pages_invalidate
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pg_dash.pages
FOR EACH STATEMENT EXECUTE FUNCTION pg_dash.pages_invalidate();

-- Parses, validates and stores a page (replacing one with the same path);
-- the title defaults to the page's first markdown heading.  access is who
-- may open it (NULL: unchanged, PUBLIC for a new page).
CREATE FUNCTION pg_dash.define_page(path text, source text, title text DEFAULT NULL,
                                    description text DEFAULT NULL, access text[] DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_define_page'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Drops a page; false when there was none.
CREATE FUNCTION pg_dash.drop_page(path text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM pg_dash.pages p WHERE p.path = drop_page.path;
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION pg_dash.define_page(text, text, text, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.drop_page(text) FROM PUBLIC;

-- The pages without their source and tree; warnings are what define_page
-- reported as notices (docs/page-syntax.md section 7).
CREATE VIEW pg_dash.page_list AS
SELECT p.path, p.title, p.description, p.bindings, p.actions,
       octet_length(p.source) AS source_bytes, p.created_at, p.updated_at,
       COALESCE(p.tree -> 'warnings', '[]'::jsonb) AS warnings
FROM pg_dash.pages p;
COMMENT ON VIEW pg_dash.page_list IS 'Dashboard pages: path, title, the names they bind, the actions they call and the warnings of their source';
