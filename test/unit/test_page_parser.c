/*-------------------------------------------------------------------------
 *
 * test_page_parser.c
 *		Unit tests for the page parser (src/lib/page_parser.c), its table
 *		of controls (page_controls.c) and the string buffer (strbuf.c).
 *
 * The fixture pages of /work/shared/fixtures/pages are embedded below as C
 * strings so that the test does not depend on paths.  JSON output is
 * checked by exact string comparison on small pages.
 *
 * test/unit/test_page_parser.c
 *
 *-------------------------------------------------------------------------
 */
#include "page_expr.h"
#include "page_parser.h"
#include "strbuf.h"
#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* /work/shared/fixtures/pages/auto_refresh.md */
static const char fixture_auto_refresh[] =
	"# Orders in the last hour\n"
	"\n"
	"<|{None}|schedule|on_action=run_query|interval=5000|>\n"
	"\n"
	"<|{orders_last_hour}|chart|type=bar|x=minute|y=orders|>\n";

/* /work/shared/fixtures/pages/big_data_platform.md */
static const char fixture_big_data_platform[] =
	"# 大數據分析平台\n"
	"\n"
	"<|{query_input}|input|label=輸入查詢|>\n"
	"<|提交|button|on_action=submit_query|>\n"
	"\n"
	"## 處理狀態\n"
	"<|{processing_status}|text|>\n"
	"\n"
	"## 分析結果\n"
	"<|{result_data}|text|>\n"
	"\n"
	"## 實時數據流\n"
	"<|{realtime_data}|text|id=realtime_section|>\n";

/* /work/shared/fixtures/pages/genome.md */
static const char fixture_genome[] =
	"# Genome variation\n"
	"\n"
	"<|{selected_gene}|selector|lov={gene_list}|on_change=run_blast|>\n"
	"\n"
	"<|{variation_df}|chart|type=density|title=SNP分布熱圖|x=position|y=chromosome|>\n";

/* /work/shared/fixtures/pages/query_dashboard.md */
static const char fixture_query_dashboard[] =
	"<|layout.columns|\n"
	"<|\n"
	"## 數據查詢\n"
	"<|{current_query}|input|multiline=True|class_name=fullwidth|>\n"
	"<|運行查詢|button|on_action=run_query|>\n"
	"\n"
	"### 查詢結果\n"
	"<|{query_result}|table|page_size=5|>\n"
	"|>\n"
	"\n"
	"<|\n"
	"## 可視化配置\n"
	"圖表類型：<|{chart_type}|selector|lov=line;bar;pie|>\n"
	"\n"
	"### 實時數據流\n"
	"<|{realtime_data}|chart|type={chart_type}|x=timestamp|y=value|id=realtime_chart|>\n"
	"|>\n"
	"|>\n";

/* The JSON of a page with the given bindings, actions and children. */
#define PAGE(b, a, c) \
	"{\"type\":\"page\",\"bindings\":[" b "],\"actions\":[" a "],\"children\":[" c "]}"

/* Parses text, which must succeed; returns the whole JSON (caller frees). */
static char *
parse_full(const char *text)
{
	PageError	e;
	char	   *json = page_parse_to_json(text, strlen(text), &e);

	if (json == NULL)
		fprintf(stderr, "unexpected error %d:%d %s (%s) [%s]\n",
				e.line, e.column, e.message, e.detail, e.hint);
	return json;
}

/* Removes every ',"key":{...}' member from json (strings are skipped over). */
static void
strip_member(char *json, const char *key)
{
	char		pat[64];
	char	   *at;

	snprintf(pat, sizeof(pat), ",\"%s\":", key);
	while (json && (at = strstr(json, pat)) != NULL)
	{
		char	   *q = at + strlen(pat);
		int			depth = 0;

		do
		{
			if (*q == '"')
			{
				for (q++; *q && *q != '"'; q++)
					if (*q == '\\')
						q++;
			}
			else if (*q == '{' || *q == '[')
				depth++;
			else if (*q == '}' || *q == ']')
				depth--;
			q++;
		} while (*q && depth > 0);
		memmove(at, q, strlen(q) + 1);
	}
}

/*
 * Parses text, which must succeed; returns the JSON without the "exprs" of
 * elements (the structure tests compare the tree; test_expressions checks
 * the parsed expressions).
 */
static char *
parse_ok(const char *text)
{
	char	   *json = parse_full(text);

	strip_member(json, "exprs");
	return json;
}

/* Parses text, which must fail; fills *e. Returns false if it succeeded. */
static bool
parse_err_len(const char *text, size_t len, PageError *e)
{
	char	   *json = page_parse_to_json(text, len, e);

	if (json)
	{
		fprintf(stderr, "unexpected success: %s\n", json);
		free(json);
		return false;
	}
	return true;
}

/* As parse_err_len for a NUL-terminated text. */
static bool
parse_err(const char *text, PageError *e)
{
	return parse_err_len(text, strlen(text), e);
}

/* Whether hay contains needle. */
static bool
contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

#define CHECK_JSON(text, want) \
	do { \
		char	   *j_ = parse_ok(text); \
		CHECK_STR(j_, want); \
		free(j_); \
	} while (0)

/* The page parses, with a warning msg at line l, column c. */
#define CHECK_WARN(text, l, c, msg) \
	do { \
		char	   *j_ = parse_full(text); \
		char		w_[512]; \
		snprintf(w_, sizeof(w_), "{\"line\":%d,\"column\":%d,\"message\":\"%s\"", l, c, msg); \
		CHECK(contains(j_, w_)); \
		if (!contains(j_, w_)) fprintf(stderr, "  wanted %s in %s\n", w_, j_ ? j_ : "(null)"); \
		free(j_); \
	} while (0)

#define CHECK_ERR(text, l, c, msg) \
	do { \
		PageError	e_; \
		CHECK(parse_err(text, &e_)); \
		CHECK_INT(e_.line, l); \
		CHECK_INT(e_.column, c); \
		CHECK_STR(e_.message, msg); \
	} while (0)

/* Each fixture page parses, with the expected tree or pieces of it. */
static void
test_fixtures(void)
{
	char	   *j;

	CHECK_JSON(fixture_auto_refresh,
			   PAGE("\"orders_last_hour\"", "\"run_query\"",
					"{\"type\":\"markdown\",\"text\":\"# Orders in the last hour\\n\",\"line\":1},"
					"{\"type\":\"control\",\"control\":\"schedule\",\"line\":3,\"column\":1,"
					"\"properties\":{\"on_action\":\"run_query\",\"interval\":\"5000\"},\"bindings\":[]},"
					"{\"type\":\"control\",\"control\":\"chart\",\"line\":5,\"column\":1,"
					"\"properties\":{\"data\":\"{orders_last_hour}\",\"type\":\"bar\",\"x\":\"minute\",\"y\":\"orders\"},"
					"\"bindings\":[\"orders_last_hour\"]}"));

	CHECK_JSON(fixture_genome,
			   PAGE("\"selected_gene\",\"gene_list\",\"variation_df\"", "\"run_blast\"",
					"{\"type\":\"markdown\",\"text\":\"# Genome variation\\n\",\"line\":1},"
					"{\"type\":\"control\",\"control\":\"selector\",\"line\":3,\"column\":1,"
					"\"properties\":{\"value\":\"{selected_gene}\",\"lov\":\"{gene_list}\",\"on_change\":\"run_blast\"},"
					"\"bindings\":[\"selected_gene\",\"gene_list\"]},"
					"{\"type\":\"control\",\"control\":\"chart\",\"line\":5,\"column\":1,"
					"\"properties\":{\"data\":\"{variation_df}\",\"type\":\"density\",\"title\":\"SNP分布熱圖\",\"x\":\"position\",\"y\":\"chromosome\"},"
					"\"bindings\":[\"variation_df\"]}"));

	j = parse_ok(fixture_big_data_platform);
	CHECK(j != NULL);
	CHECK(contains(j, "\"bindings\":[\"query_input\",\"processing_status\",\"result_data\",\"realtime_data\"]"));
	CHECK(contains(j, "\"actions\":[\"submit_query\"]"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"# 大數據分析平台\\n\",\"line\":1}"));
	CHECK(contains(j, "{\"type\":\"control\",\"control\":\"input\",\"line\":3,\"column\":1,\"properties\":{\"value\":\"{query_input}\",\"label\":\"輸入查詢\"},\"bindings\":[\"query_input\"]}"));
	CHECK(contains(j, "{\"type\":\"control\",\"control\":\"button\",\"line\":4,\"column\":1,\"properties\":{\"label\":\"提交\",\"on_action\":\"submit_query\"},\"bindings\":[]}"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"## 處理狀態\\n\",\"line\":6}"));
	CHECK(contains(j, "\"control\":\"text\",\"line\":13,\"column\":1,\"properties\":{\"value\":\"{realtime_data}\",\"id\":\"realtime_section\"}"));
	free(j);

	j = parse_ok(fixture_query_dashboard);
	CHECK(j != NULL);
	CHECK(contains(j, PAGE("\"current_query\",\"query_result\",\"chart_type\",\"realtime_data\"", "\"run_query\"",
						   "{\"type\":\"block\",\"control\":\"layout\",\"line\":1,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":["
						   "{\"type\":\"block\",\"control\":\"part\",\"line\":2,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":["
						   "{\"type\":\"markdown\",\"text\":\"## 數據查詢\\n\",\"line\":3},"
						   "{\"type\":\"control\",\"control\":\"input\",\"line\":4,\"column\":1,\"properties\":{\"value\":\"{current_query}\",\"multiline\":true,\"class_name\":\"fullwidth\"},\"bindings\":[\"current_query\"]},"
						   "{\"type\":\"control\",\"control\":\"button\",\"line\":5,\"column\":1,\"properties\":{\"label\":\"運行查詢\",\"on_action\":\"run_query\"},\"bindings\":[]},"
						   "{\"type\":\"markdown\",\"text\":\"### 查詢結果\\n\",\"line\":7},"
						   "{\"type\":\"control\",\"control\":\"table\",\"line\":8,\"column\":1,\"properties\":{\"data\":\"{query_result}\",\"page_size\":\"5\"},\"bindings\":[\"query_result\"]}"
						   "]},"
						   "{\"type\":\"block\",\"control\":\"part\",\"line\":11,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":["
						   "{\"type\":\"markdown\",\"text\":\"## 可視化配置\\n\",\"line\":12},"
						   "{\"type\":\"markdown\",\"text\":\"圖表類型：\",\"line\":13,\"column\":1,\"inline\":true},"
						   "{\"type\":\"control\",\"control\":\"selector\",\"line\":13,\"column\":6,\"inline\":true,\"properties\":{\"value\":\"{chart_type}\",\"lov\":\"line;bar;pie\"},\"bindings\":[\"chart_type\"]},"
						   "{\"type\":\"markdown\",\"text\":\"### 實時數據流\\n\",\"line\":15},"
						   "{\"type\":\"control\",\"control\":\"chart\",\"line\":16,\"column\":1,\"properties\":{\"data\":\"{realtime_data}\",\"type\":\"{chart_type}\",\"x\":\"timestamp\",\"y\":\"value\",\"id\":\"realtime_chart\"},\"bindings\":[\"realtime_data\",\"chart_type\"]}"
						   "]}]}")));
	free(j);
}

/* Plain markdown: runs of lines, blank lines trimmed at both ends. */
static void
test_markdown(void)
{
	CHECK_JSON("", PAGE("", "", ""));
	CHECK_JSON("\n\n  \n", PAGE("", "", ""));
	CHECK_JSON("# Title\n\ntext", PAGE("", "", "{\"type\":\"markdown\",\"text\":\"# Title\\n\\ntext\\n\",\"line\":1}"));
	CHECK_JSON("\n\n# T\n\n\n", PAGE("", "", "{\"type\":\"markdown\",\"text\":\"# T\\n\",\"line\":3}"));
	/* CRLF line ends and a byte order mark */
	CHECK_JSON("\xEF\xBB\xBF# T\r\n<|{a}|>\r\n",
			   PAGE("\"a\"", "", "{\"type\":\"markdown\",\"text\":\"# T\\n\",\"line\":1},"
					"{\"type\":\"control\",\"control\":\"text\",\"line\":2,\"column\":1,\"properties\":{\"value\":\"{a}\"},\"bindings\":[\"a\"]}"));
	/* markdown is HTML-safe JSON; braces outside elements are not bindings */
	CHECK_JSON("a \"q\" <b>&</b> {x\n",
			   PAGE("", "", "{\"type\":\"markdown\",\"text\":\"a \\\"q\\\" \\u003cb\\u003e\\u0026\\u003c/b\\u003e {x\\n\",\"line\":1}"));
	/* "|" in a table row is markdown, not a closing tag */
	CHECK_JSON("| a | b |\n|---|---|\n",
			   PAGE("", "", "{\"type\":\"markdown\",\"text\":\"| a | b |\\n|---|---|\\n\",\"line\":1}"));
}

/* Which fragment is the control and which the default value. */
static void
test_fragments(void)
{
	/* the DESIGN.md example */
	CHECK_JSON("# Sales\n<|layout|columns=1 2|\n<|{region}|selector|lov=North;South;East;West|>\n"
			   "<|{sales_by_hour}|chart|type=line|x=hour|y=total|>\n|>\n<|{sales_by_hour}|table|page_size=20|>\n",
			   PAGE("\"region\",\"sales_by_hour\"", "",
					"{\"type\":\"markdown\",\"text\":\"# Sales\\n\",\"line\":1},"
					"{\"type\":\"block\",\"control\":\"layout\",\"line\":2,\"column\":1,\"properties\":{\"columns\":\"1 2\"},\"bindings\":[],\"children\":["
					"{\"type\":\"control\",\"control\":\"selector\",\"line\":3,\"column\":1,\"properties\":{\"value\":\"{region}\",\"lov\":\"North;South;East;West\"},\"bindings\":[\"region\"]},"
					"{\"type\":\"control\",\"control\":\"chart\",\"line\":4,\"column\":1,\"properties\":{\"data\":\"{sales_by_hour}\",\"type\":\"line\",\"x\":\"hour\",\"y\":\"total\"},\"bindings\":[\"sales_by_hour\"]}"
					"]},"
					"{\"type\":\"control\",\"control\":\"table\",\"line\":6,\"column\":1,\"properties\":{\"data\":\"{sales_by_hour}\",\"page_size\":\"20\"},\"bindings\":[\"sales_by_hour\"]}"));
	/* control name first */
	CHECK_JSON("<|chart|data={d}|>",
			   PAGE("\"d\"", "", "{\"type\":\"control\",\"control\":\"chart\",\"line\":1,\"column\":1,\"properties\":{\"data\":\"{d}\"},\"bindings\":[\"d\"]}"));
	/* no control name: text, with a template value */
	CHECK_JSON("<|Device: {device_id}|>",
			   PAGE("\"device_id\"", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"Device: {device_id}\"},\"bindings\":[\"device_id\"]}"));
	CHECK_JSON("<|Hello|id=greeting|>",
			   PAGE("", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"Hello\",\"id\":\"greeting\"},\"bindings\":[]}"));
	/* a literal default value */
	CHECK_JSON("<|提交|button|>",
			   PAGE("", "", "{\"type\":\"control\",\"control\":\"button\",\"line\":1,\"column\":1,\"properties\":{\"label\":\"提交\"},\"bindings\":[]}"));
	/* fragments are trimmed; empty ones are ignored */
	CHECK_JSON("<| {x} || chart | type = line ||>",
			   PAGE("\"x\"", "", "{\"type\":\"control\",\"control\":\"chart\",\"line\":1,\"column\":1,\"properties\":{\"data\":\"{x}\",\"type\":\"line\"},\"bindings\":[\"x\"]}"));
	/* a value may contain "=" */
	CHECK_JSON("<|{x}|text|format=a=b|>",
			   PAGE("\"x\"", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{x}\",\"format\":\"a=b\"},\"bindings\":[\"x\"]}"));
	/* an empty element is an empty text */
	CHECK_JSON("<||>", PAGE("", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{},\"bindings\":[]}"));
	/* default properties of a few controls (from Taipy) */
	CHECK_JSON("<|{d}|date|>", PAGE("\"d\"", "", "{\"type\":\"control\",\"control\":\"date\",\"line\":1,\"column\":1,\"properties\":{\"date\":\"{d}\"},\"bindings\":[\"d\"]}"));
	CHECK_JSON("<|{i}|indicator|value=3|>", PAGE("\"i\"", "", "{\"type\":\"control\",\"control\":\"indicator\",\"line\":1,\"column\":1,\"properties\":{\"display\":\"{i}\",\"value\":\"3\"},\"bindings\":[\"i\"]}"));
	/* {None} before a control without a default property is dropped */
	CHECK_JSON("<|{None}|refresh|interval=1000|>",
			   PAGE("", "", "{\"type\":\"control\",\"control\":\"schedule\",\"line\":1,\"column\":1,\"properties\":{\"interval\":\"1000\"},\"bindings\":[]}"));
	/* {None} elsewhere is kept but is not a binding */
	CHECK_JSON("<|{None}|>", PAGE("", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{None}\"},\"bindings\":[]}"));
}

/* Escaped pipes, booleans, indexed properties. */
static void
test_properties(void)
{
	CHECK_JSON("<|a\\|b|>", PAGE("", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"a|b\"},\"bindings\":[]}"));
	/* "\|>" does not end the element */
	CHECK_JSON("<|{x}|chart|title=A\\|>B|>",
			   PAGE("\"x\"", "", "{\"type\":\"control\",\"control\":\"chart\",\"line\":1,\"column\":1,\"properties\":{\"data\":\"{x}\",\"title\":\"A|\\u003eB\"},\"bindings\":[\"x\"]}"));
	CHECK_JSON("<|{x}|input|multiline|not password|no active|dont propagate|don't change_delay|>",
			   PAGE("\"x\"", "", "{\"type\":\"control\",\"control\":\"input\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{x}\",\"multiline\":true,\"password\":false,\"active\":false,\"propagate\":false,\"change_delay\":false},\"bindings\":[\"x\"]}"));
	CHECK_JSON("<|{x}|input|multiline=True|password=false|active=true|propagate=False|lines_shown=5|label=TRUE|>",
			   PAGE("\"x\"", "", "{\"type\":\"control\",\"control\":\"input\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{x}\",\"multiline\":true,\"password\":false,\"active\":true,\"propagate\":false,\"lines_shown\":\"5\",\"label\":\"TRUE\"},\"bindings\":[\"x\"]}"));
	CHECK_JSON("<|{x}|chart|y[2]=b|color[1]=red|>",
			   PAGE("\"x\"", "", "{\"type\":\"control\",\"control\":\"chart\",\"line\":1,\"column\":1,\"properties\":{\"data\":\"{x}\",\"y[2]\":\"b\",\"color[1]\":\"red\"},\"bindings\":[\"x\"]}"));
	CHECK_JSON("<|{t}|table|width[unit price]=10em|>",
			   PAGE("\"t\"", "", "{\"type\":\"control\",\"control\":\"table\",\"line\":1,\"column\":1,\"properties\":{\"data\":\"{t}\",\"width[unit price]\":\"10em\"},\"bindings\":[\"t\"]}"));
	/* bindings in values: dotted names, deduplicated per node and page */
	CHECK_JSON("<|{a.b} and {a} {c.d.e}|>\n<|{c}|slider|max={m}|lov={a}|>",
			   PAGE("\"a\",\"c\",\"m\"", "",
					"{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{a.b} and {a} {c.d.e}\"},\"bindings\":[\"a\",\"c\"]},"
					"{\"type\":\"control\",\"control\":\"slider\",\"line\":2,\"column\":1,\"properties\":{\"value\":\"{c}\",\"max\":\"{m}\",\"lov\":\"{a}\"},\"bindings\":[\"c\",\"m\",\"a\"]}"));
	/* actions: literal on_* values, deduplicated */
	CHECK_JSON("<|Go|button|on_action=go|>\n<|{v}|input|on_change=go|on_action={f}|>",
			   PAGE("\"v\",\"f\"", "\"go\"",
					"{\"type\":\"control\",\"control\":\"button\",\"line\":1,\"column\":1,\"properties\":{\"label\":\"Go\",\"on_action\":\"go\"},\"bindings\":[]},"
					"{\"type\":\"control\",\"control\":\"input\",\"line\":2,\"column\":1,\"properties\":{\"value\":\"{v}\",\"on_change\":\"go\",\"on_action\":\"{f}\"},\"bindings\":[\"v\",\"f\"]}"));
}

/* Elements among text on a line are inline. */
static void
test_inline(void)
{
	CHECK_JSON("a <|{x}|> b <|{y}|button|> c",
			   PAGE("\"x\",\"y\"", "",
					"{\"type\":\"markdown\",\"text\":\"a \",\"line\":1,\"column\":1,\"inline\":true},"
					"{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":3,\"inline\":true,\"properties\":{\"value\":\"{x}\"},\"bindings\":[\"x\"]},"
					"{\"type\":\"markdown\",\"text\":\" b \",\"line\":1,\"column\":10,\"inline\":true},"
					"{\"type\":\"control\",\"control\":\"button\",\"line\":1,\"column\":13,\"inline\":true,\"properties\":{\"label\":\"{y}\"},\"bindings\":[\"y\"]},"
					"{\"type\":\"markdown\",\"text\":\" c\",\"line\":1,\"column\":27,\"inline\":true}"));
	/* two elements alone on a line: inline, the space between them kept */
	CHECK_JSON("  <|{x}|> <|{y}|>  ",
			   PAGE("\"x\",\"y\"", "",
					"{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":3,\"inline\":true,\"properties\":{\"value\":\"{x}\"},\"bindings\":[\"x\"]},"
					"{\"type\":\"markdown\",\"text\":\" \",\"line\":1,\"column\":10,\"inline\":true},"
					"{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":11,\"inline\":true,\"properties\":{\"value\":\"{y}\"},\"bindings\":[\"y\"]}"));
	/* an element alone (indented) is not inline; markdown runs break around it */
	CHECK_JSON("x\n   <|{x}|>\ny\n",
			   PAGE("\"x\"", "",
					"{\"type\":\"markdown\",\"text\":\"x\\n\",\"line\":1},"
					"{\"type\":\"control\",\"control\":\"text\",\"line\":2,\"column\":4,\"properties\":{\"value\":\"{x}\"},\"bindings\":[\"x\"]},"
					"{\"type\":\"markdown\",\"text\":\"y\\n\",\"line\":3}"));
	/* columns count code points */
	CHECK_JSON("中文<|{x}|>",
			   PAGE("\"x\"", "",
					"{\"type\":\"markdown\",\"text\":\"中文\",\"line\":1,\"column\":1,\"inline\":true},"
					"{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":3,\"inline\":true,\"properties\":{\"value\":\"{x}\"},\"bindings\":[\"x\"]}"));
}

/* Blocks: nesting, parts, identifiers, text around openers and closers. */
static void
test_blocks(void)
{
	char	   *j;
	char		buf[4096];
	size_t		n = 0;

	CHECK_JSON("<|\ntext\n|>",
			   PAGE("", "", "{\"type\":\"block\",\"control\":\"part\",\"line\":1,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":["
					"{\"type\":\"markdown\",\"text\":\"text\\n\",\"line\":2}]}"));
	CHECK_JSON("<|card|\n|>",
			   PAGE("", "", "{\"type\":\"block\",\"control\":\"part\",\"line\":1,\"column\":1,\"properties\":{\"class_name\":\"card\"},\"bindings\":[],\"children\":[]}"));
	/* seed-era spellings of layout */
	CHECK_JSON("<|layout.columns|columns=1 1|\n|>\n<|layout.grid|\n|>",
			   PAGE("", "", "{\"type\":\"block\",\"control\":\"layout\",\"line\":1,\"column\":1,\"properties\":{\"columns\":\"1 1\"},\"bindings\":[],\"children\":[]},"
					"{\"type\":\"block\",\"control\":\"layout\",\"line\":3,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":[]}"));
	/* a trailing "|" is optional; columns[mobile] */
	CHECK_JSON("<|layout|columns=1 2|columns[mobile]=1\n|>",
			   PAGE("", "", "{\"type\":\"block\",\"control\":\"layout\",\"line\":1,\"column\":1,\"properties\":{\"columns\":\"1 2\",\"columns[mobile]\":\"1\"},\"bindings\":[],\"children\":[]}"));
	/* dialog with its default property; text before an opener and after a closer
	 * (markdown runs lose trailing blanks; the rest of a closing line loses leading ones) */
	CHECK_JSON("Intro <|{show}|dialog|title=Hi|\n  inside\n|> after",
			   PAGE("\"show\"", "",
					"{\"type\":\"markdown\",\"text\":\"Intro\\n\",\"line\":1},"
					"{\"type\":\"block\",\"control\":\"dialog\",\"line\":1,\"column\":7,\"properties\":{\"open\":\"{show}\",\"title\":\"Hi\"},\"bindings\":[\"show\"],\"children\":["
					"{\"type\":\"markdown\",\"text\":\"  inside\\n\",\"line\":2}]},"
					"{\"type\":\"markdown\",\"text\":\"after\\n\",\"line\":3}"));
	/* an inline element before an opener on the same line */
	CHECK_JSON("<|{x}|> <|Details|expandable|\n|>",
			   PAGE("\"x\"", "",
					"{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{x}\"},\"bindings\":[\"x\"]},"
					"{\"type\":\"block\",\"control\":\"expandable\",\"line\":1,\"column\":9,\"properties\":{\"title\":\"Details\"},\"bindings\":[],\"children\":[]}"));
	/* a block control written as a single element */
	CHECK_JSON("<|{d}|dialog|page=other|>",
			   PAGE("\"d\"", "", "{\"type\":\"control\",\"control\":\"dialog\",\"line\":1,\"column\":1,\"properties\":{\"open\":\"{d}\",\"page\":\"other\"},\"bindings\":[\"d\"]}"));
	/* identifiers on opener and closer */
	CHECK_JSON("<side|pane|open={o}|\n<|\nx\n|>\n|side>",
			   PAGE("\"o\"", "",
					"{\"type\":\"block\",\"control\":\"pane\",\"line\":1,\"column\":1,\"properties\":{\"open\":\"{o}\"},\"bindings\":[\"o\"],\"children\":["
					"{\"type\":\"block\",\"control\":\"part\",\"line\":2,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":["
					"{\"type\":\"markdown\",\"text\":\"x\\n\",\"line\":3}]}]}"));
	/* nesting up to PAGE_MAX_DEPTH is accepted */
	for (int i = 0; i < PAGE_MAX_DEPTH; i++)
		n += (size_t) snprintf(buf + n, sizeof(buf) - n, "<|\n");
	for (int i = 0; i < PAGE_MAX_DEPTH; i++)
		n += (size_t) snprintf(buf + n, sizeof(buf) - n, "|>\n");
	j = parse_ok(buf);
	CHECK(j != NULL);
	free(j);
}

/* Unknown controls and properties, with their hints. */
static void
test_unknown_names(void)
{
	PageError	e;

	CHECK(parse_err("x\n<|{sales}|chrt|type=line|>", &e));
	CHECK_INT(e.line, 2);
	CHECK_INT(e.column, 11);
	CHECK_STR(e.message, "unknown control \"chrt\"");
	CHECK_STR(e.detail, "Did you mean \"chart\"?");
	CHECK(contains(e.hint, "Valid controls are: alert, button, chart, chat, content, data_node, "));
	CHECK(contains(e.hint, "layout, login"));
	CHECK(!contains(e.hint, "layout.columns"));
	CHECK(contains(e.hint, ", toggle, tree."));

	CHECK_ERR("<|chrt|type=line|>", 1, 3, "unknown control \"chrt\"");
	CHECK_ERR("<|layout.colums|\n|>", 1, 3, "unknown control \"layout.colums\"");
	/* a bare first word not close to a control name is text */
	CHECK_WARN("<|foo|x=1|\n|>", 1, 7, "unknown property \\\"x\\\" for control \\\"part\\\" is ignored");
	CHECK_ERR("<|{x}|foo|>", 1, 7, "unknown control \"foo\"");

	/* unknown properties are ignored with a warning, as in Taipy */
	{
		char	   *j = parse_full("<|{x}|chart|tpye=line|>");

		CHECK(contains(j, "\"properties\":{\"data\":\"{x}\"}"));
		CHECK(contains(j, "\"warnings\":[{\"line\":1,\"column\":13,\"message\":\"unknown property \\\"tpye\\\" for control \\\"chart\\\" is ignored\",\"detail\":\"Did you mean \\\"type\\\"?\",\"hint\":\"Valid properties of \\\"chart\\\" are: data, type, mode, x, y, "));
		CHECK(contains(j, "; and on every control: id, class_name, hover_text, active, label, on_change, propagate, width, height, properties.\"}]"));
		free(j);
	}
	CHECK_WARN("<|{x}|type=line|>", 1, 7, "unknown property \\\"type\\\" for control \\\"text\\\" is ignored");
	CHECK_WARN("<|{x}|text|on_action=f|>", 1, 12, "unknown property \\\"on_action\\\" for control \\\"text\\\" is ignored");
	CHECK_WARN("<|{x}|chart|q[1]=a|>", 1, 13, "unknown property \\\"q\\\" for control \\\"chart\\\" is ignored");
	CHECK_WARN("<|{x}|layout.grid|nope|\n|>", 1, 19, "unknown property \\\"nope\\\" for control \\\"layout\\\" is ignored");
	/* columns count code points, not bytes */
	CHECK_WARN("中文<|{x}|chart|bad=1|>", 1, 15, "unknown property \\\"bad\\\" for control \\\"chart\\\" is ignored");
	/* long names are cut in messages, on a character boundary */
	CHECK_WARN("<|{x}|chart|ééééééééééééééééééééééééééééééééééééééééééééééééééé=1|>", 1, 13,
			   "invalid property \\\"éééééééééééééééééééééééééééééé...\\\" is ignored");
	CHECK_WARN("<|{x}|chart|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1|>", 1, 13,
			   "unknown property \\\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\\\" for control \\\"chart\\\" is ignored");
	/* a misspelt control with properties is still refused */
	CHECK_ERR("<|chrt|type=line|>", 1, 3, "unknown control \"chrt\"");
	CHECK_ERR("<|slidr|bad line|>", 1, 3, "unknown control \"slidr\"");
}

/* Syntax errors inside elements. */
static void
test_element_errors(void)
{
	PageError	e;

	CHECK(parse_err("<|{1x}|>", &e));
	CHECK_INT(e.column, 4);
	CHECK_STR(e.message, "invalid number \"1x\"");
	CHECK_ERR("<|{x}|chart|title=Total: {a b}|>", 1, 29, "unexpected \"b\" in expression");
	CHECK_ERR("<|{x|>", 1, 3, "expression has no closing \"}\"");
	CHECK_ERR("<|{a.}|>", 1, 6, "a name is expected after \".\"");
	CHECK_ERR("<|{}|>", 1, 3, "empty expression \"{}\"");
	CHECK_ERR("é <|x {a}{|>", 1, 11, "expression is incomplete");

	/* a property set twice: the one written by name wins, with a warning */
	{
		char	   *j = parse_ok("<|{x}|chart|data={y}|>");

		CHECK(contains(j, "\"properties\":{\"data\":\"{y}\"},\"bindings\":[\"y\"]"));
		free(j);
	}
	CHECK_WARN("<|{x}|chart|data={y}|>", 1, 3, "the value before the control name is ignored: \\\"data\\\", the default property of \\\"chart\\\", is set by name");
	CHECK_WARN("<|{x}|chart|y[1]=a|y[1]=b|>", 1, 13, "property \\\"y[1]\\\" is set more than once");
	{
		char	   *j = parse_ok("<|{x}|chart|y[1]=a|y[1]=b|>");

		CHECK(contains(j, "\"properties\":{\"data\":\"{x}\",\"y[1]\":\"b\"}"));
		free(j);
	}

	CHECK_WARN("<|{x}|input|not password=1|>", 1, 13, "negated property \\\"password\\\" cannot have a value; the value is ignored");
	{
		char	   *j = parse_ok("<|{x}|input|not password=1|>");

		CHECK(contains(j, "\"password\":false"));
		free(j);
	}
	CHECK_WARN("<|{x}|chart|type line|>", 1, 13, "invalid property \\\"type line\\\" is ignored");
	CHECK_WARN("<|{x}|chart|1a=2|>", 1, 13, "invalid property \\\"1a=2\\\" is ignored");
	CHECK_WARN("<|{x}|chart|y[]=2|>", 1, 13, "invalid property \\\"y[]=2\\\" is ignored");
	CHECK_WARN("<|{x}|chart|y[1=2|>", 1, 13, "invalid property \\\"y[1=2\\\" is ignored");

	CHECK(parse_err("<|5000|schedule|on_action=f|>", &e));
	CHECK_INT(e.column, 3);
	CHECK_STR(e.message, "control \"schedule\" takes no value before its name");
}

/* Errors in the block structure. */
static void
test_block_errors(void)
{
	PageError	e;
	char		buf[4096];
	size_t		n = 0;

	CHECK(parse_err("a\nb\n  |>\n", &e));
	CHECK_INT(e.line, 3);
	CHECK_INT(e.column, 3);
	CHECK_STR(e.message, "closing tag \"|>\" has no open block");
	CHECK(contains(e.hint, "<|...|"));

	/* blocks left open are closed at the end, with a warning each */
	CHECK_WARN("a\n  <|layout|\nx\n", 2, 3, "block \\\"layout\\\" is not closed");
	{
		char	   *j = parse_full("<|layout|\n<|Title|expandable|\n<|\n|>\n");

		CHECK(contains(j, "\"warnings\":[{\"line\":2,\"column\":1,\"message\":\"block \\\"expandable\\\" is not closed\""));
		CHECK(contains(j, "{\"line\":1,\"column\":1,\"message\":\"block \\\"layout\\\" is not closed\""));
		CHECK(contains(j, "\"children\":[{\"type\":\"block\",\"control\":\"part\",\"line\":3,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":[]}]}]}]}"));
		free(j);
	}

	/* a control that cannot hold content, without "|>": one element, with a notice */
	CHECK_ERR("text\n<|{x}|chart|type=line|\n|>", 3, 1, "closing tag \"|>\" has no open block");
	{
		char	   *j = parse_full("text\n<|{x}|chart|type=line|\n<|{t}|time|format=hh aa>\nafter\n");

		CHECK(contains(j, "{\"line\":2,\"column\":7,\"message\":\"control \\\"chart\\\" cannot open a block; the element ends at the end of its line\""));
		CHECK(contains(j, "{\"line\":3,\"column\":7,\"message\":\"control \\\"time\\\" cannot open a block;"));
		CHECK(contains(j, "\"control\":\"chart\",\"line\":2,\"column\":1,\"properties\":{\"data\":\"{x}\",\"type\":\"line\"},\"exprs\""));
		CHECK(contains(j, "\"properties\":{\"time\":\"{t}\",\"format\":\"hh aa\"},\"exprs\""));
		CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"after\\n\",\"line\":4}]}"));
		free(j);
	}

	CHECK_ERR("<a|\n|b>", 2, 1, "closing tag \"|b>\" does not match its block");
	CHECK_ERR("<|\n|b>", 2, 1, "closing tag \"|b>\" does not match its block");

	for (int i = 0; i <= PAGE_MAX_DEPTH; i++)
		n += (size_t) snprintf(buf + n, sizeof(buf) - n, " <|\n");
	CHECK(parse_err(buf, &e));
	CHECK_INT(e.line, PAGE_MAX_DEPTH + 1);
	CHECK_INT(e.column, 2);
	CHECK_STR(e.message, "blocks are nested too deeply");
}

/* Invalid UTF-8 and NUL bytes are rejected at their position. */
static void
test_encoding(void)
{
	PageError	e;

	CHECK(parse_err("ab\n中\xff", &e));
	CHECK_INT(e.line, 2);
	CHECK_INT(e.column, 2);
	CHECK_STR(e.message, "invalid UTF-8 byte sequence");
	CHECK(contains(e.detail, "0xff"));
	CHECK_ERR("\xc3\x28", 1, 1, "invalid UTF-8 byte sequence");
	CHECK_ERR("x\xc0\xaf", 1, 2, "invalid UTF-8 byte sequence");
	CHECK_ERR("\xed\xa0\x80", 1, 1, "invalid UTF-8 byte sequence");
	CHECK_ERR("\xf4\x90\x80\x80", 1, 1, "invalid UTF-8 byte sequence");
	CHECK_ERR("\xe4\xb8", 1, 1, "invalid UTF-8 byte sequence");
	CHECK(parse_err_len("a\nb\0c", 5, &e));
	CHECK_INT(e.line, 2);
	CHECK_INT(e.column, 2);
	CHECK_STR(e.message, "page contains a NUL character");
	/* text need not be NUL-terminated */
	{
		char	   *j = page_parse_to_json("<|{a}|>xyz", 7, &e);

		CHECK_STR(j, PAGE("\"a\"", "", "{\"type\":\"control\",\"control\":\"text\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{a}\"},\"exprs\":{\"value\":[{\"e\":[\"n\",\"a\"]}]},\"bindings\":[\"a\"]}"));
		free(j);
	}
}

/* The string buffer and its JSON escaping. */
static void
test_strbuf(void)
{
	StrBuf		sb;
	char	   *s;

	strbuf_init(&sb);
	s = strbuf_detach(&sb);
	CHECK_STR(s, "");
	free(s);

	strbuf_init(&sb);
	strbuf_append(&sb, "n=");
	strbuf_append_int(&sb, -42);
	strbuf_append_char(&sb, ' ');
	{
		static const char raw[] = "a\"\\\n\t\x01/<>&\xe2\x80\xa8 é中\xff";

		strbuf_append_json_string(&sb, raw, sizeof(raw) - 1);
	}
	s = strbuf_detach(&sb);
	CHECK_STR(s, "n=-42 \"a\\\"\\\\\\n\\t\\u0001/\\u003c\\u003e\\u0026\\u2028 é中\\ufffd\"");
	free(s);
	CHECK(sb.data == NULL && sb.len == 0);

	/* growth across many appends */
	strbuf_init(&sb);
	for (int i = 0; i < 10000; i++)
		strbuf_append(&sb, "0123456789");
	CHECK_INT(sb.len, 100000);
	CHECK_INT(strlen(sb.data), 100000);
	strbuf_reset(&sb);
	CHECK_INT(sb.len, 0);
	strbuf_free(&sb);

	/* a failed buffer detaches as NULL */
	strbuf_init(&sb);
	CHECK(!strbuf_reserve(&sb, (size_t) -1));
	CHECK(sb.failed);
	strbuf_append(&sb, "x");
	CHECK(strbuf_detach(&sb) == NULL);
}

/* The table of controls. */
static void
test_controls(void)
{
	const PageControl *c = page_control_lookup("chart", 5);

	CHECK(c != NULL && strcmp(c->default_property, "data") == 0);
	CHECK(page_control_has_property(c, "y", 1));
	CHECK(page_control_has_property(c, "width", 5));
	CHECK(!page_control_has_property(c, "on_action", 9));
	CHECK(page_control_lookup("chartx", 5) == c);
	CHECK(page_control_lookup("chartx", 6) == NULL);
	CHECK_STR(page_control_lookup("refresh", 7)->canonical, "schedule");
	CHECK_STR(page_control_lookup("layout.grid", 11)->canonical, "layout");
	CHECK_STR(page_control_lookup("part", 4)->default_property, "class_name");
	CHECK_STR(page_control_lookup("button", 6)->default_property, "label");
	CHECK_STR(page_control_lookup("expandable", 10)->default_property, "title");
	CHECK(page_control_lookup("schedule", 8)->default_property == NULL);
	CHECK(page_control_has_property(page_control_lookup("button", 6), "on_action", 9));
	CHECK_STR(page_control_suggest("slidr", 5), "slider");
	CHECK(page_control_suggest("zzzzzzzz", 8) == NULL);
	CHECK_STR(page_property_suggest(c, "colour", 6), "color");
}

/* Collects the names an expression reads, comma-separated. */
static bool
collect_name(void *arg, const char *name, size_t len)
{
	StrBuf	   *sb = arg;

	if (sb->len > 0)
		strbuf_append_char(sb, ',');
	strbuf_append_len(sb, name, len);
	return true;
}

/* The parts of template t as JSON, or "ERROR <offset> <message>"; names into *names. */
static char *
tpl(const char *t, char **names)
{
	StrBuf		out;
	StrBuf		nm;
	PageExprError err;
	int			r;

	strbuf_init(&out);
	strbuf_init(&nm);
	r = page_template_parse(t, strlen(t), &out, collect_name, &nm, &err);
	if (r < 0)
	{
		strbuf_reset(&out);
		strbuf_append(&out, "ERROR ");
		strbuf_append_int(&out, err.at - t);
		strbuf_append_char(&out, ' ');
		strbuf_append(&out, err.message);
	}
	if (names)
		*names = strbuf_detach(&nm);
	else
		strbuf_free(&nm);
	return strbuf_detach(&out);
}

#define CHECK_TPL(t, want) \
	do { \
		char	   *j_ = tpl(t, NULL); \
		CHECK_STR(j_, want); \
		free(j_); \
	} while (0)

/* The expression language: every construct, Python's precedence, refusals. */
static void
test_expressions(void)
{
	char	   *names;
	char	   *j;

	/* names, attribute and index access, literals */
	CHECK_TPL("{x}", "[{\"e\":[\"n\",\"x\"]}]");
	CHECK_TPL("{d[\"k\"]}", "[{\"e\":[\"get\",[\"n\",\"d\"],[\"[]\",[\"c\",\"k\"]]]}]");
	CHECK_TPL("{rows[0].name}", "[{\"e\":[\"get\",[\"n\",\"rows\"],[\"[]\",[\"c\",0]],[\".\",\"name\"]]}]");
	CHECK_TPL("{x[1:]}", "[{\"e\":[\"get\",[\"n\",\"x\"],[\"[:]\",[\"c\",1],null,null]]}]");
	CHECK_TPL("{x[::-1]}", "[{\"e\":[\"get\",[\"n\",\"x\"],[\"[:]\",null,null,[\"u\",\"-\",[\"c\",1]]]]}]");
	CHECK_TPL("{True}{False}{None}", "[{\"e\":[\"c\",true]},{\"e\":[\"c\",false]},{\"e\":[\"c\",null]}]");
	CHECK_TPL("{1_000}{2.50}{1e3}{0x10}{.5}", "[{\"e\":[\"c\",1000]},{\"e\":[\"c\",2.5]},{\"e\":[\"c\",1000]},{\"e\":[\"c\",16]},{\"e\":[\"c\",0.5]}]");
	CHECK_TPL("{'a' \"b\"}", "[{\"e\":[\"c\",\"ab\"]}]");
	CHECK_TPL("{'\\u00e9\\n\\x41'}", "[{\"e\":[\"c\",\"é\\nA\"]}]");
	CHECK_TPL("{[1, 'a']}{(1,)}{()}{(1)}", "[{\"e\":[\"list\",[\"c\",1],[\"c\",\"a\"]]},{\"e\":[\"tuple\",[\"c\",1]]},{\"e\":[\"tuple\"]},{\"e\":[\"c\",1]}]");
	CHECK_TPL("{ {'a': 1, 'b': x} }", "[{\"e\":[\"dict\",[\"c\",\"a\"],[\"c\",1],[\"c\",\"b\"],[\"n\",\"x\"]]}]");
	CHECK_TPL("{a, b}", "[{\"e\":[\"tuple\",[\"n\",\"a\"],[\"n\",\"b\"]]}]");
	/* precedence as in Python */
	CHECK_TPL("{a + b * c - d}", "[{\"e\":[\"ops\",[\"n\",\"a\"],\"+\",[\"ops\",[\"n\",\"b\"],\"*\",[\"n\",\"c\"]],\"-\",[\"n\",\"d\"]]}]");
	CHECK_TPL("{a // b % c}", "[{\"e\":[\"ops\",[\"n\",\"a\"],\"//\",[\"n\",\"b\"],\"%\",[\"n\",\"c\"]]}]");
	CHECK_TPL("{-2 ** 2}", "[{\"e\":[\"u\",\"-\",[\"pow\",[\"c\",2],[\"c\",2]]]}]");
	CHECK_TPL("{2 ** -1}", "[{\"e\":[\"pow\",[\"c\",2],[\"u\",\"-\",[\"c\",1]]]}]");
	CHECK_TPL("{2 ** 3 ** 2}", "[{\"e\":[\"pow\",[\"c\",2],[\"pow\",[\"c\",3],[\"c\",2]]]}]");
	CHECK_TPL("{not a == b}", "[{\"e\":[\"not\",[\"cmp\",[\"n\",\"a\"],\"==\",[\"n\",\"b\"]]]}]");
	CHECK_TPL("{a or b and not c}", "[{\"e\":[\"or\",[\"n\",\"a\"],[\"and\",[\"n\",\"b\"],[\"not\",[\"n\",\"c\"]]]]}]");
	CHECK_TPL("{0 < x <= 10 != y}", "[{\"e\":[\"cmp\",[\"c\",0],\"\\u003c\",[\"n\",\"x\"],\"\\u003c=\",[\"c\",10],\"!=\",[\"n\",\"y\"]]}]");
	CHECK_TPL("{x not in y}{x is not None}{x in y}", "[{\"e\":[\"cmp\",[\"n\",\"x\"],\"not in\",[\"n\",\"y\"]]},{\"e\":[\"cmp\",[\"n\",\"x\"],\"is not\",[\"c\",null]]},{\"e\":[\"cmp\",[\"n\",\"x\"],\"in\",[\"n\",\"y\"]]}]");
	CHECK_TPL("{a if b else c if d else e}", "[{\"e\":[\"if\",[\"n\",\"a\"],[\"n\",\"b\"],[\"if\",[\"n\",\"c\"],[\"n\",\"d\"],[\"n\",\"e\"]]]}]");
	CHECK_TPL("{a + 1 if b or c else 2}", "[{\"e\":[\"if\",[\"ops\",[\"n\",\"a\"],\"+\",[\"c\",1]],[\"or\",[\"n\",\"b\"],[\"n\",\"c\"]],[\"c\",2]]}]");
	/* builtins, conversions, format specifications, f-strings, literal braces */
	CHECK_TPL("{len(items) > 0}", "[{\"e\":[\"cmp\",[\"call\",\"len\",[\"n\",\"items\"]],\"\\u003e\",[\"c\",0]]}]");
	CHECK_TPL("{list(d)}{list()}", "[{\"e\":[\"call\",\"list\",[\"n\",\"d\"]]},{\"e\":[\"call\",\"list\"]}]");
	CHECK_TPL("{list(a, b)}", "ERROR 1 list() takes 0 to 1 arguments (2 given)");
	CHECK_TPL("{round(x, 2)}{max(a, b, 3)}", "[{\"e\":[\"call\",\"round\",[\"n\",\"x\"],[\"c\",2]]},{\"e\":[\"call\",\"max\",[\"n\",\"a\"],[\"n\",\"b\"],[\"c\",3]]}]");
	CHECK_TPL("Total: {x:,.2f} ({p:.1%})", "[\"Total: \",{\"e\":[\"n\",\"x\"],\"f\":\",.2f\"},\" (\",{\"e\":[\"n\",\"p\"],\"f\":\".1%\"},\")\"]");
	CHECK_TPL("{d:%Y-%m-%d %H:%M}{x!r}{s!s:>8}", "[{\"e\":[\"n\",\"d\"],\"f\":\"%Y-%m-%d %H:%M\"},{\"e\":[\"n\",\"x\"],\"c\":\"r\"},{\"e\":[\"n\",\"s\"],\"c\":\"s\",\"f\":\"\\u003e8\"}]");
	CHECK_TPL("{x != 1}", "[{\"e\":[\"cmp\",[\"n\",\"x\"],\"!=\",[\"c\",1]]}]");
	CHECK_TPL("{f'{n} item{\"s\" if n != 1 else \"\"}'}", "[{\"e\":[\"f\",[{\"e\":[\"n\",\"n\"]},\" item\",{\"e\":[\"if\",[\"c\",\"s\"],[\"cmp\",[\"n\",\"n\"],\"!=\",[\"c\",1]],[\"c\",\"\"]]}]]}]");
	CHECK_TPL("{{x}} a\\|b }", "[\"{x} a|b }\"]");
	CHECK_TPL("{'a\\|b'}", "[{\"e\":[\"c\",\"a|b\"]}]");
	/* the names an expression reads, builtins and constants excluded */
	j = tpl("{len(rows) + x.y - d['k'] if flag else None}", &names);
	CHECK_STR(names, "rows,x,d,flag");
	free(names);
	free(j);

	/* refused, with the position of the problem */
	CHECK_TPL("{lambda x: x}", "ERROR 1 lambda expressions are not supported");
	CHECK_TPL("{[x for x in y]}", "ERROR 4 comprehensions are not supported");
	CHECK_TPL("{np.mean(x)}", "ERROR 1 cannot call \"np.mean\"");
	CHECK_TPL("{df.max()}", "ERROR 1 cannot call \"df.max\"");
	CHECK_TPL("{df.iloc[0]}", "ERROR 4 \".iloc\" is not supported");
	CHECK_TPL("{open('f')}", "ERROR 1 function \"open\" is not available");
	CHECK_TPL("{x.__class__}", "ERROR 3 name \"__class__\" is not allowed");
	CHECK_TPL("{__import__}", "ERROR 1 name \"__import__\" is not allowed");
	CHECK_TPL("{round(x, 2, 3)}", "ERROR 1 round() takes 1 to 2 arguments (3 given)");
	CHECK_TPL("{len()}", "ERROR 1 len() takes 1 argument (0 given)");
	CHECK_TPL("{round(x, ndigits=2)}", "ERROR 10 keyword arguments are not supported");
	CHECK_TPL("{x:.2q}", "ERROR 3 invalid format specification \".2q\"");
	CHECK_TPL("{x:{w}}", "ERROR 3 nested fields in a format specification are not supported");
	CHECK_TPL("{x!z}", "ERROR 2 invalid conversion \"!z\"");
	CHECK_TPL("{a & b}", "ERROR 3 operator \"&\" is not supported");
	CHECK_TPL("{x = 1}", "ERROR 3 assignments are not supported");
	CHECK_TPL("{x=}", "ERROR 2 self-documenting expressions \"{x=}\" are not supported");
	CHECK_TPL("{1, 2 if}", "ERROR 8 unexpected \"}\" in expression: an operand is missing");
	CHECK_TPL("{(1 + 2}", "ERROR 7 unexpected \"}\" in expression: \")\" expected");
	CHECK_TPL("{'abc}", "ERROR 1 unterminated string");
	CHECK_TPL("{'\\0'}", "ERROR 2 string contains a NUL character");
	CHECK_TPL("{'\\ud800'}", "ERROR 2 invalid code point in string escape");
	CHECK_TPL("{b'x'}", "ERROR 1 bytes literals are not supported");
	CHECK_TPL("{1e999}", "ERROR 1 number is too large");
	CHECK_TPL("{2j}", "ERROR 1 complex numbers are not supported");
	CHECK_TPL("{ {1, 2} }", "ERROR 4 set literals are not supported");
	CHECK_TPL("{a if b}", "ERROR 7 conditional expression without \"else\"");
	CHECK_TPL("{x[1, 2]}", "ERROR 4 tuple indexes are not supported");
	CHECK_TPL("{x", "ERROR 0 expression has no closing \"}\"");
	CHECK_TPL("{}", "ERROR 0 empty expression \"{}\"");

	/* format specifications */
	CHECK(page_format_spec_valid("", 0));
	CHECK(page_format_spec_valid("*^+#012,.3f", 11));
	CHECK(page_format_spec_valid("é>10", strlen("é>10")));
	CHECK(page_format_spec_valid("_d", 2));
	CHECK(page_format_spec_valid("%d/%m/%Y", 8));
	CHECK(!page_format_spec_valid(".f", 2));
	CHECK(!page_format_spec_valid("%Q", 2));
	CHECK(!page_format_spec_valid("10.2ff", 6));

	/* nesting is bounded */
	{
		char		deep[400];
		size_t		n = 0;

		deep[n++] = '{';
		for (int i = 0; i < 100; i++)
			deep[n++] = '(';
		deep[n++] = '1';
		for (int i = 0; i < 100; i++)
			deep[n++] = ')';
		deep[n++] = '}';
		deep[n] = '\0';
		j = tpl(deep, NULL);
		CHECK(contains(j, "expression is nested too deeply"));
		free(j);
		n = 1;
		for (int i = 0; i < 120; i++)
			deep[n++] = '-';
		strcpy(deep + n, "1}");
		j = tpl(deep, NULL);
		CHECK(contains(j, "expression is nested too deeply"));
		free(j);
	}
}

/* Pages written the way public Taipy apps write them: each accepted, with its notices. */
static void
test_taipy_compat(void)
{
	char	   *j;

	/* expressions inside elements, with their bindings and positions */
	j = parse_full("# Stats\n<|{total:,.2f} EUR|>\n<|{len(items) > 0}|toggle|>\n");
	CHECK(contains(j, "\"bindings\":[\"total\",\"items\"]"));
	CHECK(contains(j, "\"exprs\":{\"value\":[{\"e\":[\"n\",\"total\"],\"f\":\",.2f\"},\" EUR\"]}"));
	CHECK(contains(j, "\"exprs\":{\"value\":[{\"e\":[\"cmp\",[\"call\",\"len\",[\"n\",\"items\"]],\"\\u003e\",[\"c\",0]]}]}"));
	free(j);
	CHECK_ERR("ok\n<|{x}|chart|title={np.mean(v)}|>", 2, 20, "cannot call \"np.mean\"");
	CHECK_ERR("<|{lambda s: s.id}|selector|>", 1, 4, "lambda expressions are not supported");

	/* the element name in a later fragment */
	j = parse_ok("<|Details|expanded=False|expandable|\nBody\n|>\n");
	CHECK(contains(j, "{\"type\":\"block\",\"control\":\"expandable\",\"line\":1,\"column\":1,\"properties\":{\"title\":\"Details\",\"expanded\":false}"));
	free(j);

	/* dotted and indexed property names; properties={...} */
	j = parse_full("<|{d}|chart|layout.xaxis.title=Time|y[1]=a|color[2]=red|properties={opts}|>\n<|{t}|table|columns[mobile]=a;b|group_by[region]|>\n");
	CHECK(contains(j, "\"properties\":{\"data\":\"{d}\",\"layout.xaxis.title\":\"Time\",\"y[1]\":\"a\",\"color[2]\":\"red\",\"properties\":\"{opts}\"}"));
	CHECK(contains(j, "\"columns[mobile]\":\"a;b\",\"group_by[region]\":true"));
	CHECK(!contains(j, "layout.xaxis.title\\\" is"));
	CHECK(contains(j, "\"message\":\"properties given by \\\"properties=\\\" are not checked\""));
	CHECK(contains(j, "\"bindings\":[\"d\",\"opts\",\"t\"]"));
	free(j);
	j = parse_full("<|{v}|metric|layout.title=T|>\n");
	CHECK(contains(j, "\"message\":\"dotted property name \\\"layout.title\\\" is passed on as written\""));
	free(j);

	/* chart: Plotly names with an ECharts equivalent are applied, the others get a notice */
	j = parse_full("<|{d}|chart|layout.yaxis.range=[0, 10]|layout.xaxis|options.line.dash=dot|marker.size=4|mode[2]=markers|options[1]={o}|>\n");
	CHECK(!contains(j, "\"warnings\""));
	free(j);
	j = parse_full("<|{d}|chart|layout.annotations=a|options.hovertemplate=h|text[2]=t|layout.xaxis.nope=1|x.y=2|layout[1]=3|>\n");
	CHECK(contains(j, "{\"line\":1,\"column\":13,\"message\":\"chart property \\\"layout.annotations\\\" has no equivalent in pg_dash's charts and is ignored\""));
	{
		const char *const unmapped[] = {"options.hovertemplate", "text[2]", "layout.xaxis.nope", "x.y", "layout[1]"};

		for (size_t k = 0; k < sizeof(unmapped) / sizeof(unmapped[0]); k++)
		{
			char		want[128];

			snprintf(want, sizeof(want), "chart property \\\"%s\\\" has no equivalent", unmapped[k]);
			CHECK(contains(j, want));
		}
	}
	free(j);
	{
		/* a heading's markdown as a page title */
		const char *const cases[][2] = {
			{"Approximating **Pi**{: .color-primary} using the Leibniz formula", "Approximating Pi using the Leibniz formula"},
			{"  _Sales_  by  `region` ", "Sales by region"},
			{"snake_case and 2*3 [link](http://x/y) {: #id}", "snake_case and 2*3 link"},
			{"***", ""}, {"數據 **分析**", "數據 分析"}, {"a {: b", "a {: b"}, {"rows[0] and [x]", "rows[0] and [x]"},
		};

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		{
			char		buf[128];

			snprintf(buf, sizeof(buf), "%s", cases[k][0]);
			page_heading_plain(buf);
			CHECK_STR(buf, cases[k][1]);
		}
	}
	CHECK(page_chart_property_applied("layout.xaxis.title.text", 23));
	CHECK(page_chart_property_applied("color[2]", 8));
	CHECK(!page_chart_property_applied("options[2].fill", 15));
	CHECK(page_chart_property_applied("marker.color[3]", 15));
	CHECK(!page_chart_property_applied("layout.xaxi", 11));
	CHECK(!page_chart_property_applied("]", 1));

	/* CRLF line endings and indented element lines */
	j = parse_ok("# T\r\n<|layout|columns=1 1|\r\n    <|{a}|slider|>\r\n    Some *text*\r\n    <|{b}|>\r\n|>\r\n");
	CHECK(contains(j, "{\"type\":\"control\",\"control\":\"slider\",\"line\":3,\"column\":5,"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"    Some *text*\\n\",\"line\":4}"));
	CHECK(!contains(j, "\\r"));
	free(j);

	/* comments: elements inside them are not elements */
	j = parse_full("[comment]: <> (a note)\n<!-- <|{old}|chrt|> -->\nA <!-- x --> <|{n}|>\n<!--\n<|{gone}|>\n-->\n<|{kept}|>\n");
	CHECK(contains(j, "\"bindings\":[\"n\",\"kept\"]"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"[comment]: \\u003c\\u003e (a note)\\n\\u003c!-- \\u003c|{old}|chrt|\\u003e --\\u003e\\n\",\"line\":1}"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"A \\u003c!-- x --\\u003e \",\"line\":3,\"column\":1,\"inline\":true}"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"\\u003c!--\\n\\u003c|{gone}|\\u003e\\n--\\u003e\\n\",\"line\":4}"));
	free(j);

	/* <style> and <script> blocks are dropped with a notice */
	j = parse_full("<style>\n.card { color: red; }\n</style>\n# Title\n<script>alert(1)</script>\n<|{x}|>\n");
	CHECK(contains(j, "{\"line\":1,\"column\":1,\"message\":\"\\u003cstyle\\u003e block is dropped\""));
	CHECK(contains(j, "{\"line\":5,\"column\":1,\"message\":\"\\u003cscript\\u003e block is dropped\""));
	CHECK(!contains(j, "color: red"));
	CHECK(!contains(j, "alert"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"# Title\\n\",\"line\":4}"));
	free(j);
	CHECK_WARN("<STYLE type=\"text/css\">\n.a{}\n", 2, 1, "the page ends inside a \\u003cstyle\\u003e block");

	/* named blocks */
	j = parse_ok("<sidebar|part|class_name=side|\n<|{x}|>\n|sidebar>\n<main|\nText\n|main>\n");
	CHECK(contains(j, "{\"type\":\"block\",\"control\":\"part\",\"line\":1,\"column\":1,\"properties\":{\"class_name\":\"side\"}"));
	CHECK(contains(j, "{\"type\":\"block\",\"control\":\"part\",\"line\":4,\"column\":1,\"properties\":{},\"bindings\":[],\"children\":[{\"type\":\"markdown\",\"text\":\"Text\\n\",\"line\":5}]}"));
	free(j);

	/* markdown around an inline element stays with it */
	j = parse_ok("### <|{title}|text|>\n*<|{n}|>*\n");
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"### \",\"line\":1,\"column\":1,\"inline\":true}"));
	CHECK(contains(j, "{\"type\":\"markdown\",\"text\":\"*\",\"line\":2,\"column\":1,\"inline\":true}"));
	free(j);

	/* a page without warnings has no "warnings" key */
	j = parse_full("<|{x}|>");
	CHECK(!contains(j, "warnings"));
	free(j);
	/* warnings are capped */
	{
		StrBuf		sb;

		strbuf_init(&sb);
		for (int i = 0; i < 150; i++)
			strbuf_append(&sb, "<|{x}|chart|zz=1|>\n");
		j = parse_full(sb.data);
		CHECK(contains(j, "\"message\":\"50 more warnings are not listed\"}]"));
		free(j);
		strbuf_free(&sb);
	}
}

/* Taipy's navigation, upload, tree, chat and scenario-management elements. */
static void
test_taipy_elements(void)
{
	char	   *j;

	/* <|content|> of a root page is an element, not the text "content" */
	j = parse_ok("<|navbar|>\n<|content|>\n");
	CHECK_STR(j, PAGE("", "", "{\"type\":\"control\",\"control\":\"navbar\",\"line\":1,\"column\":1,\"properties\":{},\"bindings\":[]},"
					  "{\"type\":\"control\",\"control\":\"content\",\"line\":2,\"column\":1,\"properties\":{},\"bindings\":[]}"));
	free(j);
	CHECK_ERR("<|{x}|content|>", 1, 3, "control \"content\" takes no value before its name");

	/* tree, chat and file_selector with their default properties */
	j = parse_ok("<|{pick}|tree|lov={items}|expanded|>\n<|{msgs}|chat|users={users}|sender_id=me|on_action=send|>\n"
				 "<|{up}|file_selector|on_action=store|max_file_size=1000|extensions=.csv|>\n");
	CHECK(contains(j, "\"control\":\"tree\",\"line\":1,\"column\":1,\"properties\":{\"value\":\"{pick}\",\"lov\":\"{items}\",\"expanded\":true}"));
	CHECK(contains(j, "\"control\":\"chat\",\"line\":2,\"column\":1,\"properties\":{\"messages\":\"{msgs}\",\"users\":\"{users}\",\"sender_id\":\"me\",\"on_action\":\"send\"}"));
	CHECK(contains(j, "\"properties\":{\"content\":\"{up}\",\"on_action\":\"store\",\"max_file_size\":\"1000\",\"extensions\":\".csv\"}"));
	CHECK(contains(j, "\"actions\":[\"send\",\"store\"]"));
	CHECK(!contains(j, "warnings"));
	free(j);

	/* scenario management: accepted with a notice each, kept in the tree */
	CHECK_WARN("# Plan\n<|{sc}|scenario_selector|show_add_button=False|>\n", 2, 8,
			   "element \\\"scenario_selector\\\" belongs to Taipy's scenario management and is shown as a panel");
	j = parse_full("<|{s}|scenario|>\n<|{s}|scenario_dag|>\n<|{dn}|data_node|>\n<|{dn}|data_node_selector|>\n<|{j}|job_selector|show_cancel|>\n");
	CHECK(contains(j, "\"control\":\"scenario\",\"line\":1,\"column\":1,\"properties\":{\"scenario\":\"{s}\"}"));
	CHECK(contains(j, "\"control\":\"data_node\",\"line\":3,\"column\":1,\"properties\":{\"data_node\":\"{dn}\"}"));
	CHECK(contains(j, "{\"line\":5,\"column\":7,\"message\":\"element \\\"job_selector\\\" belongs"));
	CHECK(contains(j, "\"hint\":\"Show the data with a named query (table, chart) and run work with a SQL action (button).\"}"));
	free(j);
	/* a misspelt one is still refused, with the nearest name */
	CHECK_ERR("<|{s}|scenario_selectr|>", 1, 7, "unknown control \"scenario_selectr\"");
	CHECK(page_control_lookup("job_selector", 12)->foreign);
	CHECK(!page_control_lookup("tree", 4)->foreign);
}

/* Runs every group of tests and prints the tally. */
int
main(void)
{
	test_fixtures();
	test_markdown();
	test_fragments();
	test_properties();
	test_inline();
	test_blocks();
	test_unknown_names();
	test_element_errors();
	test_block_errors();
	test_encoding();
	test_strbuf();
	test_controls();
	test_expressions();
	test_taipy_compat();
	test_taipy_elements();
	UNIT_DONE();
}
