/*
 * csp.c
 *		Checks the value of a CSP frame-ancestors directive (CSP Level 3,
 *		"ancestor-source-list"): 'none' alone, or a space-separated list of
 *		'self', scheme sources ("https:") and host sources
 *		("https://portal.example.com:8443/path", a host may start with "*.").
 *
 * The value is copied verbatim into every response's Content-Security-Policy
 * header, so anything that could end the directive (";"), start another
 * policy (","), end the header (CR, LF) or is not printable ASCII is refused
 * with a reason, as is anything else the grammar does not allow.
 */
#include <string.h>

#include "csp.h"

/* True for an ASCII letter. */
static bool
csp_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* True for an ASCII digit. */
static bool
csp_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* True for a hexadecimal digit. */
static bool
csp_hex(char c)
{
	return csp_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* True when s[0..len) equals the lower-case word, ignoring ASCII case. */
static bool
csp_word_is(const char *s, size_t len, const char *word)
{
	size_t		i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != word[i])
			return false;
	}
	return true;
}

/* Length of a scheme ("https") at s, or 0: a letter, then letters, digits, "+", "-", ".". */
static size_t
csp_scheme_len(const char *s, size_t len)
{
	size_t		i;

	if (len == 0 || !csp_alpha(s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!csp_alpha(s[i]) && !csp_digit(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
			break;
	return i;
}

/*
 * Length of a host at s, or 0: "*", or an optional "*." followed by labels
 * of letters, digits and hyphens separated by dots.
 */
static size_t
csp_host_len(const char *s, size_t len)
{
	size_t		i = 0;
	size_t		label = 0;

	if (len >= 1 && s[0] == '*' && (len == 1 || s[1] != '.'))
		return 1;
	if (len >= 2 && s[0] == '*' && s[1] == '.')
		i = 2;
	for (; i < len; i++)
	{
		if (csp_alpha(s[i]) || csp_digit(s[i]) || s[i] == '-')
			label++;
		else if (s[i] == '.' && label > 0)
			label = 0;
		else
			break;
	}
	return label > 0 ? i : 0;
}

/* True for a character of a path (RFC 3986 pchar and "/", without ";" and ","). */
static bool
csp_path_char(char c)
{
	return csp_alpha(c) || csp_digit(c) || strchr("-._~!$&'()*+=:@/", c) != NULL;
}

/* True when token[0..len) is a host source: [scheme "://"] host [":" port] [path]. */
static bool
csp_host_source_valid(const char *t, size_t len)
{
	size_t		n = csp_scheme_len(t, len);
	size_t		i = 0;

	if (n > 0 && len - n >= 3 && memcmp(t + n, "://", 3) == 0)
		i = n + 3;
	n = csp_host_len(t + i, len - i);
	if (n == 0)
		return false;
	i += n;
	if (i < len && t[i] == ':')
	{
		i++;
		if (i < len && t[i] == '*')
			i++;
		else
		{
			size_t		digits = 0;

			while (i < len && csp_digit(t[i]) && digits < 5)
				i++, digits++;
			if (digits == 0)
				return false;
		}
	}
	if (i < len && t[i] != '/')
		return false;
	for (; i < len; i++)
	{
		if (t[i] == '%')
		{
			if (i + 2 >= len || !csp_hex(t[i + 1]) || !csp_hex(t[i + 2]))
				return false;
			i += 2;
		}
		else if (!csp_path_char(t[i]))
			return false;
	}
	return true;
}

/*
 * True when value may be written as the frame-ancestors directive; otherwise
 * false with *reason set to a sentence saying why.
 */
bool
csp_ancestors_valid(const char *value, const char **reason)
{
	size_t		len;
	size_t		i;
	size_t		tokens = 0;
	bool		none = false;

	*reason = NULL;
	if (value == NULL)
	{
		*reason = "The value is missing.";
		return false;
	}
	len = strlen(value);
	if (len > CSP_ANCESTORS_MAX_LEN)
	{
		*reason = "The value is longer than 1024 bytes.";
		return false;
	}
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) value[i];

		if (c == ';')
		{
			*reason = "A semicolon would end the directive and let the value add others.";
			return false;
		}
		if (c == ',')
		{
			*reason = "A comma would start a second policy; separate sources with spaces.";
			return false;
		}
		if (c < 0x20 || c >= 0x7f)
		{
			*reason = "Only printable ASCII characters and spaces are allowed (no tab, line break or control character).";
			return false;
		}
	}

	i = 0;
	while (i < len)
	{
		const char *t;
		size_t		n;

		while (i < len && value[i] == ' ')
			i++;
		if (i == len)
			break;
		t = value + i;
		for (n = 0; i + n < len && t[n] != ' '; n++)
			;
		i += n;
		tokens++;
		if (csp_word_is(t, n, "'none'"))
			none = true;
		else if (csp_word_is(t, n, "'self'"))
			continue;
		else if (csp_word_is(t, n, "none") || csp_word_is(t, n, "self"))
		{
			*reason = "The keywords 'none' and 'self' are written in single quotes.";
			return false;
		}
		else if (t[0] == '\'')
		{
			*reason = "The only quoted keywords frame-ancestors allows are 'self' and 'none'.";
			return false;
		}
		else if (csp_scheme_len(t, n) == n - 1 && t[n - 1] == ':')
			continue;
		else if (!csp_host_source_valid(t, n))
		{
			*reason = "Each source is 'self', a scheme such as https:, or a host such as https://*.example.com:8443.";
			return false;
		}
	}
	if (tokens == 0)
	{
		*reason = "The value is empty; 'none' forbids every frame.";
		return false;
	}
	if (none && tokens > 1)
	{
		*reason = "'none' cannot be combined with other sources.";
		return false;
	}
	return true;
}
