/*-------------------------------------------------------------------------
 *
 * page_controls.c
 *		The table of controls a page may use, with each control's default
 *		property and valid properties, following Taipy's visual elements.
 *
 * Pure C (libc only), independent of PostgreSQL.  The table is sorted by
 * name so that the hints listing it read alphabetically.  Properties valid
 * on every control are in page_common_properties; "on_action" is listed per
 * control, only where the control can trigger an action.  An indexed
 * property such as "y[2]" is valid where its base name ("y") is; the parser
 * strips the index before asking.  Taipy's scenario and data-node elements
 * (taipy.gui_core) are known too, marked "foreign": pages that use them are
 * accepted with a notice and the browser shows a labelled panel in their
 * place.  docs/page-syntax.md documents this table and must be kept in step
 * with it.
 *
 * src/lib/page_controls.c
 *
 *-------------------------------------------------------------------------
 */
#include "page_parser.h"

#include <stdio.h>
#include <string.h>

const char *const page_common_properties[] = {
	"id", "class_name", "hover_text", "active", "label", "on_change",
	"propagate", "width", "height", "properties", NULL
};

static const char *const alert_props[] = {
	"message", "severity", "variant", "render", NULL
};
static const char *const button_props[] = {
	"label", "on_action", NULL
};
static const char *const chat_props[] = {
	"messages", "users", "sender_id", "with_input", "on_action", "page_size",
	"show_sender", "mode", "max_file_size", NULL
};
static const char *const chart_props[] = {
	"data", "type", "mode", "x", "y", "z", "lat", "lon", "r", "theta",
	"color", "size", "text", "title", "name", "xaxis", "yaxis", "layout",
	"options", "decimator", "rebuild", "on_range_change", "render",
	"selected", "orientation", "plot_config", "labels", "values", "marker",
	"high", "low", "open", "close", "measure", "locations", "parents", "base",
	"columns", "selected_color", "selected_marker", "line", "text_anchor",
	"template", "figure", "on_click", NULL
};
static const char *const content_props[] = {
	NULL
};
static const char *const data_node_props[] = {
	"data_node", "expandable", "expanded", "show_config", "show_owner",
	"show_edit_date", "show_expiration_date", "show_properties",
	"show_history", "show_data", "show_owner_label", "chart_config",
	"scenario", NULL
};
static const char *const data_node_selector_props[] = {
	"value", "display_cycles", "show_primary_flag", "show_pins", "scenario",
	"datanodes", "multiple", "filter", "show_search", "sort", NULL
};
static const char *const date_props[] = {
	"date", "with_time", "format", "min", "max", "editable", "analogic", NULL
};
static const char *const date_range_props[] = {
	"dates", "with_time", "format", "label_start", "label_end", "editable",
	"analogic", NULL
};
static const char *const dialog_props[] = {
	"open", "title", "on_action", "labels", "close_label", "page", "partial",
	NULL
};
static const char *const expandable_props[] = {
	"title", "expanded", "page", "partial", NULL
};
static const char *const file_download_props[] = {
	"content", "name", "bypass_preview", "render", "auto", "on_action", NULL
};
static const char *const file_selector_props[] = {
	"content", "multiple", "extensions", "drop_message", "notify",
	"on_action", "max_file_size", NULL
};
static const char *const gauge_props[] = {
	"value", "min", "max", "threshold", "title", "format", NULL
};
static const char *const image_props[] = {
	"content", "on_action", NULL
};
static const char *const indicator_props[] = {
	"display", "value", "min", "max", "format", "orientation", NULL
};
static const char *const input_props[] = {
	"value", "multiline", "password", "lines_shown", "action_keys",
	"change_delay", "on_action", "type", NULL
};
static const char *const job_selector_props[] = {
	"value", "show_id", "show_submitted_label", "show_submitted_id",
	"show_submission_id", "show_date", "show_cancel", "show_delete",
	"on_details", NULL
};
static const char *const layout_props[] = {
	"columns", "gap", NULL
};
static const char *const login_props[] = {
	"title", "message", "on_action", NULL
};
static const char *const menu_props[] = {
	"lov", "adapter", "type", "inactive_ids", "on_action", NULL
};
static const char *const metric_props[] = {
	"value", "type", "min", "max", "delta", "delta_color",
	"negative_delta_color", "threshold", "format", "delta_format", "title",
	"show_value", "bar_color", "color_map", "layout", "template", NULL
};
static const char *const navbar_props[] = {
	"lov", "adapter", "type", NULL
};
static const char *const number_props[] = {
	"value", "min", "max", "step", "step_multiplier", "action_keys",
	"change_delay", "on_action", NULL
};
static const char *const pane_props[] = {
	"open", "on_close", "anchor", "persistent", "show_button", "page",
	"partial", NULL
};
static const char *const part_props[] = {
	"class_name", "render", "page", "content", "partial", NULL
};
static const char *const progress_props[] = {
	"value", "linear", "show_value", "title", "title_anchor", "render", NULL
};
static const char *const scenario_props[] = {
	"scenario", "expandable", "expanded", "show_submit", "show_delete",
	"show_config", "show_creation_date", "show_cycle", "show_tags",
	"show_properties", "show_sequences", "show_submit_sequences",
	"on_submission_change", NULL
};
static const char *const scenario_dag_props[] = {
	"scenario", "render", "show_toolbar", "on_action", NULL
};
static const char *const scenario_selector_props[] = {
	"value", "show_add_button", "display_cycles", "show_primary_flag",
	"show_pins", "on_creation", "show_dialog", "scenarios", "multiple",
	"filter", "show_search", "sort", NULL
};
static const char *const schedule_props[] = {
	"interval", "on_action", NULL
};
static const char *const selector_props[] = {
	"value", "lov", "adapter", "type", "dropdown", "multiple", "filter",
	"mode", "value_by_id", NULL
};
static const char *const slider_props[] = {
	"value", "min", "max", "step", "lov", "adapter", "type", "orientation",
	"labels", "continuous", "text_anchor", "change_delay", "value_by_id", NULL
};
static const char *const status_props[] = {
	"value", "without_close", NULL
};
static const char *const table_props[] = {
	"data", "page_size", "page_size_options", "columns", "sortable", "filter",
	"editable", "on_edit", "on_add", "on_delete", "on_action", "show_all",
	"allow_all_rows", "auto_loading", "date_format", "number_format",
	"rebuild", "downloadable", "selected", "group_by", "apply",
	"row_class_name", "cell_class_name", "tooltip", "format_fn", "nan_value",
	"lov", "size", "use_checkbox", NULL
};
static const char *const text_props[] = {
	"value", "format", "mode", "raw", NULL
};
static const char *const time_props[] = {
	"time", "format", "editable", "analogic", NULL
};
static const char *const tree_props[] = {
	"value", "lov", "adapter", "type", "value_by_id", "mode", "dropdown",
	"multiple", "filter", "expanded", "select_leafs_only", "row_height", NULL
};
static const char *const toggle_props[] = {
	"value", "lov", "adapter", "type", "allow_unselect", "unselected_value",
	"theme", "mode", "value_by_id", NULL
};

/* name, canonical, default property, is_block, listed, properties, foreign */
static const PageControl page_controls[] = {
	{"alert", "alert", "message", false, true, alert_props, false},
	{"button", "button", "label", false, true, button_props, false},
	{"chart", "chart", "data", false, true, chart_props, false},
	{"chat", "chat", "messages", false, true, chat_props, false},
	{"content", "content", NULL, false, true, content_props, false},
	{"data_node", "data_node", "data_node", false, true, data_node_props, true},
	{"data_node_selector", "data_node_selector", "value", false, true, data_node_selector_props, true},
	{"date", "date", "date", false, true, date_props, false},
	{"date_range", "date_range", "dates", false, true, date_range_props, false},
	{"dialog", "dialog", "open", true, true, dialog_props, false},
	{"expandable", "expandable", "title", true, true, expandable_props, false},
	{"file_download", "file_download", "content", false, true, file_download_props, false},
	{"file_selector", "file_selector", "content", false, true, file_selector_props, false},
	{"gauge", "gauge", "value", false, true, gauge_props, false},
	{"image", "image", "content", false, true, image_props, false},
	{"indicator", "indicator", "display", false, true, indicator_props, false},
	{"input", "input", "value", false, true, input_props, false},
	{"job_selector", "job_selector", "value", false, true, job_selector_props, true},
	{"layout", "layout", "columns", true, true, layout_props, false},
	{"layout.columns", "layout", "columns", true, false, layout_props, false},
	{"layout.grid", "layout", "columns", true, false, layout_props, false},
	{"login", "login", "title", false, true, login_props, false},
	{"menu", "menu", "lov", false, true, menu_props, false},
	{"metric", "metric", "value", false, true, metric_props, false},
	{"navbar", "navbar", "lov", false, true, navbar_props, false},
	{"number", "number", "value", false, true, number_props, false},
	{"pane", "pane", "open", true, true, pane_props, false},
	{"part", "part", "class_name", true, true, part_props, false},
	{"progress", "progress", "value", false, true, progress_props, false},
	{"refresh", "schedule", NULL, false, true, schedule_props, false},
	{"scenario", "scenario", "scenario", false, true, scenario_props, true},
	{"scenario_dag", "scenario_dag", "scenario", false, true, scenario_dag_props, true},
	{"scenario_selector", "scenario_selector", "value", false, true, scenario_selector_props, true},
	{"schedule", "schedule", NULL, false, true, schedule_props, false},
	{"selector", "selector", "value", false, true, selector_props, false},
	{"slider", "slider", "value", false, true, slider_props, false},
	{"status", "status", "value", false, true, status_props, false},
	{"table", "table", "data", false, true, table_props, false},
	{"text", "text", "value", false, true, text_props, false},
	{"time", "time", "time", false, true, time_props, false},
	{"toggle", "toggle", "value", false, true, toggle_props, false},
	{"tree", "tree", "value", false, true, tree_props, false},
};

#define PAGE_NCONTROLS (sizeof(page_controls) / sizeof(page_controls[0]))

/* Whether the NUL-terminated word equals name[0..len). */
static bool
page_word_equals(const char *word, const char *name, size_t len)
{
	return strncmp(word, name, len) == 0 && word[len] == '\0';
}

/* The control named exactly name[0..len), or NULL. */
const PageControl *
page_control_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < PAGE_NCONTROLS; i++)
	{
		if (page_word_equals(page_controls[i].name, name, len))
			return &page_controls[i];
	}
	return NULL;
}

/* Whether the word list (NULL-terminated) contains name[0..len). */
static bool
page_list_contains(const char *const *list, const char *name, size_t len)
{
	for (; *list; list++)
	{
		if (page_word_equals(*list, name, len))
			return true;
	}
	return false;
}

/* Whether the base property name name[0..len) is valid on control ctl. */
bool
page_control_has_property(const PageControl *ctl, const char *name, size_t len)
{
	return page_list_contains(ctl->properties, name, len) ||
		page_list_contains(page_common_properties, name, len);
}

/*
 * What the browser applies of a chart's Plotly-style properties, mapped to
 * ECharts by www/js/controls/chart-plotly.js, which keeps the same lists:
 * paths under "layout." (Plotly's layout), paths of a trace (under
 * "options.", or "marker."/"line." directly), and the properties that may
 * carry an index for one trace ("color[2]").  A path that is a prefix of a
 * listed one ("layout.xaxis") takes a dictionary, whose keys the browser
 * checks.
 */
static const char *const chart_layout_paths[] = {
	"title", "title.text", "showlegend", "legend.orientation", "barmode",
	"margin.l", "margin.r", "margin.t", "margin.b", "plot_bgcolor",
	"paper_bgcolor", "font.color", "font.size", "font.family", "hovermode",
	"colorway",
	"xaxis.title", "xaxis.title.text", "xaxis.range", "xaxis.type",
	"xaxis.visible", "xaxis.showgrid", "xaxis.tickangle", "xaxis.autorange",
	"xaxis.tickprefix", "xaxis.ticksuffix", "xaxis.rangeslider.visible",
	"yaxis.title", "yaxis.title.text", "yaxis.range", "yaxis.type",
	"yaxis.visible", "yaxis.showgrid", "yaxis.tickangle", "yaxis.autorange",
	"yaxis.tickprefix", "yaxis.ticksuffix",
	"yaxis2.title", "yaxis2.title.text", "yaxis2.range", "yaxis2.type",
	"yaxis2.visible", "yaxis2.showgrid", "yaxis2.autorange",
	"yaxis2.tickprefix", "yaxis2.ticksuffix", NULL
};
static const char *const chart_trace_paths[] = {
	"name", "opacity", "fill", "fillcolor", "stackgroup", "mode",
	"marker.color", "marker.size", "marker.symbol", "marker.opacity",
	"line.color", "line.width", "line.dash", "line.shape", NULL
};
static const char *const chart_indexed[] = {
	"y", "color", "type", "mode", "name", "marker", "line", "options",
	"yaxis", NULL
};

/* Whether path[0..len) is in list, or a prefix of an entry ending at a dot. */
static bool
page_path_in(const char *const *list, const char *path, size_t len)
{
	for (; *list; list++)
	{
		if (strncmp(*list, path, len) == 0 &&
			((*list)[len] == '\0' || (*list)[len] == '.'))
			return true;
	}
	return false;
}

/*
 * Whether the browser applies the chart property name[0..len): a dotted
 * ("layout.xaxis.title") or indexed ("color[2]") name, as written.
 */
bool
page_chart_property_applied(const char *name, size_t len)
{
	size_t		n = len;
	size_t		dot;
	bool		indexed = false;

	if (n > 0 && name[n - 1] == ']')
	{
		while (n > 0 && name[n - 1] != '[')
			n--;
		if (n == 0)
			return false;
		n--;
		indexed = true;
	}
	for (dot = 0; dot < n && name[dot] != '.'; dot++)
		;
	if (indexed && !page_list_contains(chart_indexed, name, dot))
		return false;
	if (dot == n)
		return true;
	if (page_word_equals("layout", name, dot))
		return !indexed && page_path_in(chart_layout_paths, name + dot + 1, n - dot - 1);
	if (page_word_equals("options", name, dot))
		return page_path_in(chart_trace_paths, name + dot + 1, n - dot - 1);
	if (page_word_equals("marker", name, dot) || page_word_equals("line", name, dot))
		return page_path_in(chart_trace_paths, name, n);
	return false;
}

/* Appends s to buf[0..size), keeping it NUL-terminated; false if it did not fit. */
static bool
page_hint_append(char *buf, size_t size, size_t *used, const char *s)
{
	size_t		n = strlen(s);

	if (*used + n + 1 > size)
		return false;
	memcpy(buf + *used, s, n + 1);
	*used += n;
	return true;
}

/* Writes "Valid controls are: ..." into buf (always NUL-terminated). */
void
page_controls_hint(char *buf, size_t size)
{
	size_t		used = 0;
	bool		first = true;

	if (size == 0)
		return;
	buf[0] = '\0';
	page_hint_append(buf, size, &used, "Valid controls are: ");
	for (size_t i = 0; i < PAGE_NCONTROLS; i++)
	{
		if (!page_controls[i].listed)
			continue;
		if (!first)
			page_hint_append(buf, size, &used, ", ");
		page_hint_append(buf, size, &used, page_controls[i].name);
		first = false;
	}
	page_hint_append(buf, size, &used, ".");
}

/* Writes the valid properties of ctl into buf (always NUL-terminated). */
void
page_control_properties_hint(const PageControl *ctl, char *buf, size_t size)
{
	size_t		used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	page_hint_append(buf, size, &used, "Valid properties of \"");
	page_hint_append(buf, size, &used, ctl->canonical);
	page_hint_append(buf, size, &used, "\" are: ");
	for (const char *const *p = ctl->properties; *p; p++)
	{
		if (p != ctl->properties)
			page_hint_append(buf, size, &used, ", ");
		page_hint_append(buf, size, &used, *p);
	}
	page_hint_append(buf, size, &used, "; and on every control: ");
	for (const char *const *p = page_common_properties; *p; p++)
	{
		if (p != page_common_properties)
			page_hint_append(buf, size, &used, ", ");
		page_hint_append(buf, size, &used, *p);
	}
	page_hint_append(buf, size, &used, ".");
}

#define PAGE_SUGGEST_MAX 40

/* Edit distance (with adjacent swaps) of two strings of at most PAGE_SUGGEST_MAX bytes. */
static size_t
page_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		prev2[PAGE_SUGGEST_MAX + 1];
	size_t		prev[PAGE_SUGGEST_MAX + 1];
	size_t		cur[PAGE_SUGGEST_MAX + 1];

	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++)
	{
		cur[0] = i;
		for (size_t j = 1; j <= blen; j++)
		{
			size_t		best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			/* a swap of two adjacent letters counts as one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
				prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		memcpy(prev2, prev, (blen + 1) * sizeof(size_t));
		memcpy(prev, cur, (blen + 1) * sizeof(size_t));
	}
	return prev[blen];
}

/* Keeps candidate in *best when it is closer to name than the best so far. */
static void
page_suggest_consider(const char *candidate, const char *name, size_t len,
					  const char **best, size_t *best_dist)
{
	size_t		clen = strlen(candidate);
	size_t		d;

	if (clen > PAGE_SUGGEST_MAX)
		return;
	d = page_edit_distance(name, len, candidate, clen);
	if (d < *best_dist)
	{
		*best = candidate;
		*best_dist = d;
	}
}

/* The allowed distance for a suggestion: a third of the name, at least 1. */
static size_t
page_suggest_limit(size_t len)
{
	return len / 3 < 1 ? 1 : (len / 3 > 3 ? 3 : len / 3);
}

/* The listed control name closest to name[0..len) if it is close, or NULL. */
const char *
page_control_suggest(const char *name, size_t len)
{
	const char *best = NULL;
	size_t		best_dist = (size_t) -1;

	if (len == 0 || len > PAGE_SUGGEST_MAX)
		return NULL;
	for (size_t i = 0; i < PAGE_NCONTROLS; i++)
	{
		if (page_controls[i].listed)
			page_suggest_consider(page_controls[i].name, name, len,
								  &best, &best_dist);
	}
	return best_dist <= page_suggest_limit(len) ? best : NULL;
}

/* The property of ctl closest to name[0..len) if it is close, or NULL. */
const char *
page_property_suggest(const PageControl *ctl, const char *name, size_t len)
{
	const char *best = NULL;
	size_t		best_dist = (size_t) -1;

	if (len == 0 || len > PAGE_SUGGEST_MAX)
		return NULL;
	for (const char *const *p = ctl->properties; *p; p++)
		page_suggest_consider(*p, name, len, &best, &best_dist);
	for (const char *const *p = page_common_properties; *p; p++)
		page_suggest_consider(*p, name, len, &best, &best_dist);
	return best_dist <= page_suggest_limit(len) ? best : NULL;
}
