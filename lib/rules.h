/* The rule engine: the config's rules compiled (PCRE2 with JIT where the kernel allows it,
 * json-c for JSON sources) and evaluated in file order, first match wins. It keeps the per-source
 * context that context rules record (e.g. the nodes a resume process is launching, keyed by its
 * PID) and adds it to later matches of the same source and key. No clock, no I/O, no logging. */
#ifndef PCMON_RULES_H
#define PCMON_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fields.h"

typedef struct rules rules;

enum match_what {
    MATCH_NONE,      /* no rule matched */
    MATCH_IGNORE,    /* an ignore rule matched: drop */
    MATCH_FIRE,      /* event occurrence, or a state rule's match */
    MATCH_RESOLVE,   /* a state rule's resolve pattern */
    MATCH_PENDING,   /* a state rule's pending pattern */
    MATCH_CONTEXT,   /* a context rule recorded fields */
};

typedef struct match {
    enum match_what what;
    size_t rule;          /* index into config->rules (valid unless MATCH_NONE) */
    fieldset fields;      /* named groups, JSON fields, `set:` and inherited context */
} match;

typedef struct rules_stats {
    uint64_t lines;           /* lines evaluated */
    uint64_t json_errors;     /* JSON-source lines that did not parse (skipped, counted) */
    uint64_t match_errors;    /* PCRE2 errors such as the match limit (line skipped, counted) */
    uint64_t *matches;        /* per rule */
    bool jit;                 /* PCRE2 JIT in use */
} rules_stats;

/* Compiles every rule of c (which must outlive the result). Bad patterns are reported as
 * config errors with the rule's position and PCRE2's offset. Returns NULL when errs grew. */
rules *rules_compile(const pcmon_config *c, config_errors *errs);
/* As rules_compile; RULES_NO_JIT forces PCRE2's interpreter (same matches, slower). */
#define RULES_NO_JIT 1u
rules *rules_compile_flags(const pcmon_config *c, unsigned flags, config_errors *errs);
rules *rules_free(rules *r);

/* Evaluates one line of source src (index into c->sources) whose timestamp is ts (used to
 * expire context) against the rules' match patterns, first match wins. Fills m (m->fields is reset first; the caller owns and frees it with
 * fields_free). Returns m->what. */
enum match_what rules_eval(rules *r, size_t src, const char *line, size_t len, uint64_t ts, match *m);

/* The clearing side of state rules, evaluated apart from first-match-wins because one line can
 * clear several states (STARTING -> RUNNING ends both a stopped fleet and protected mode): every
 * state rule of src whose resolve or pending pattern matches fills one entry of out (at most max;
 * the caller owns the entries' fields). Returns the number filled. */
size_t rules_eval_clears(rules *r, size_t src, const char *line, size_t len, match *out, size_t max);

/* rules_eval, then rules_eval_clears into clears[0..*nclears) unless the line was ignored or
 * recorded context, with one prefilter pass over the line for both (what the pipeline calls). */
enum match_what rules_eval_line(rules *r, size_t src, const char *line, size_t len, uint64_t ts, match *m,
                                match *clears, size_t max, size_t *nclears);

/* Drops all remembered context (used by replay between independent runs). */
void rules_reset_context(rules *r);
const rules_stats *rules_get_stats(const rules *r);

/* For flatline rule ri: does this line count as activity (any line, or one matching its
 * patterns when it has some)? */
bool rules_flatline_activity(rules *r, size_t ri, const char *line, size_t len);

/* True when rule ri applies to source src. */
bool rules_applies(const rules *r, size_t ri, size_t src);

#endif
