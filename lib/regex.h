/* PCRE2 as pcmon uses it, shared by the config check and the rule engine. */
#ifndef PCMON_REGEX_H
#define PCMON_REGEX_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* PCRE2_MATCH_INVALID_UTF (PCRE2 10.34) lets invalid UTF-8 in a log line simply not match instead
 * of failing the match. Below it (EL8 ships 10.32) patterns are compiled without UTF: bytes match
 * as bytes, which the default rules (ASCII) do not notice. */
#ifdef PCRE2_MATCH_INVALID_UTF
#define PCMON_PCRE2_FLAGS (PCRE2_DUPNAMES | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)
#else
#define PCMON_PCRE2_FLAGS PCRE2_DUPNAMES
#endif

#endif
