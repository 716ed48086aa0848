#include "literal.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Hands a string over, leaving an empty one behind (the runs always hold strings). */
#define TAKE_STR(x) ({ char *_t = (x); (x) = xstrdup(""); _t; })

/* One walk over a pattern (or a part of it). Runs of plain characters at required positions are
 * literal candidates. A required alternation of plain strings multiplies the run: "): (A|B) - "
 * is walked as the two runs "): A - " and "): B - ", an "any of" set, kept when its shortest
 * member beats the longest single run. */
typedef struct walk {
    litset runs;         /* the runs being built: one, or several after an alternation */
    char *best;          /* the longest single run so far */
    litset set;          /* the best set so far */
    size_t set_score;    /* length of its shortest member */
    bool last_lit;       /* the last thing added was one plain character */
    bool sets;           /* look for sets (off inside branches: one literal per branch) */
} walk;

/* Index just past the close character that follows p[i] (for \x{..}, \g<..> and the like). */
static size_t past(const char *p, size_t i, char close)
{
    const char *e = strchr(p + i, close);
    return e ? (size_t)(e - p) + 1 : strlen(p);
}

/* Index just past an escape whose letter or digit is p[i + 1], arguments included, so that the
 * digits of \x41 or \012 are not mistaken for literal characters. */
static size_t skip_escape(const char *p, size_t i)
{
    char c = p[i + 1];
    size_t k = i + 2;
    if (c == 'x' || c == 'o' || c == 'N' || c == 'p' || c == 'P' || c == 'g' || c == 'k') {
        if (p[k] == '{')
            return past(p, k, '}');
        if ((c == 'g' || c == 'k') && (p[k] == '<' || p[k] == '\''))
            return past(p, k + 1, p[k] == '<' ? '>' : '\'');
    }
    if (c == 'x')
        while (k < i + 4 && isxdigit((unsigned char)p[k]))
            k++;
    else if ((c == 'p' || c == 'P' || c == 'c') && p[k])
        k++;
    else if (c == 'g' || isdigit((unsigned char)c)) {
        if (c == 'g' && (p[k] == '+' || p[k] == '-'))
            k++;
        while (isdigit((unsigned char)p[k]))
            k++;
    }
    return k;
}

/* Index just past the class that starts at p[i] == '[' (POSIX [:name:] inside included). */
static size_t skip_class(const char *p, size_t i)
{
    i++;
    if (p[i] == '^')
        i++;
    if (p[i] == ']')   /* a leading ']' is literal */
        i++;
    while (p[i] && p[i] != ']') {
        if (p[i] == '[' && p[i + 1] == ':' && strstr(p + i + 2, ":]"))
            i = (size_t)(strstr(p + i + 2, ":]") - p) + 1;
        else if (p[i] == '\\' && p[i + 1])
            i++;
        i++;
    }
    return p[i] ? i + 1 : i;
}

/* Index just past the group that starts at p[i] == '('. A (?#comment) ends at its first ')'. */
static size_t skip_group(const char *p, size_t i)
{
    int depth = 0;
    while (p[i]) {
        if (p[i] == '\\' && p[i + 1])
            i += 2;
        else if (p[i] == '[')
            i = skip_class(p, i);
        else if (p[i] == '(' && p[i + 1] == '?' && p[i + 2] == '#') {
            i = past(p, i, ')');
            if (depth == 0)
                return i;
        } else {
            if (p[i] == '(')
                depth++;
            else if (p[i] == ')' && --depth == 0)
                return i + 1;
            i++;
        }
    }
    return i;
}

/* Index past a "{n,m}" quantifier body, or past the '{' alone when it is not one (PCRE2 then
 * treats it as a literal, which the caller conservatively does not count). */
static size_t skip_braces(const char *p, size_t i)
{
    size_t k = i + 1;
    while (p[k] && (isdigit((unsigned char)p[k]) || p[k] == ','))
        k++;
    return p[k] == '}' && k > i + 1 ? k + 1 : i + 1;
}

/* For a group whose content must match wherever the group does (capturing, named, (?:, (?|, (?>),
 * stores where that content starts. Lookarounds, conditionals, comments, recursion, callouts
 * and verbs are opaque. */
static bool group_body(const char *p, size_t i, size_t *start)
{
    if (p[i + 1] == '*')
        return false;
    if (p[i + 1] != '?') {
        *start = i + 1;
        return true;
    }
    char c = p[i + 2];
    if (c == ':' || c == '|' || c == '>') {
        *start = i + 3;
        return true;
    }
    size_t k = i + 2 + (c == 'P');
    if ((p[k] == '<' && p[k + 1] != '=' && p[k + 1] != '!') || p[k] == '\'') {
        size_t e = past(p, k + 1, p[k] == '<' ? '>' : '\'');
        *start = e;
        return p[e - 1] == (p[k] == '<' ? '>' : '\'');
    }
    return false;
}

/* Index of the next top-level '|' in [i, to), or to. */
static size_t next_bar(const char *p, size_t i, size_t to)
{
    while (i < to) {
        if (p[i] == '\\' && p[i + 1])
            i += 2;
        else if (p[i] == '[')
            i = skip_class(p, i);
        else if (p[i] == '(')
            i = skip_group(p, i);
        else if (p[i] == '|')
            return i;
        else
            i++;
    }
    return to;
}

void litset_free(litset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void litset_push(litset *s, char *str)
{
    s->v = xrealloc(s->v, (s->n + 1) * sizeof(char *));
    s->v[s->n++] = str;
}

static void append_all(litset *s, const char *add, size_t n)
{
    for (size_t i = 0; i < s->n; i++) {
        char *x = xasprintf("%s%.*s", s->v[i], (int)n, add);
        free(s->v[i]);
        s->v[i] = x;
    }
}

static size_t litset_score(const litset *s)
{
    size_t min = SIZE_MAX;
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) < min)
            min = strlen(s->v[i]);
    return s->n ? min : 0;
}

/* acc = every string of acc followed by every string of sub; false past LITSET_MAX. */
static bool product(litset *acc, const litset *sub)
{
    if (acc->n * sub->n > LITSET_MAX || sub->n == 0)
        return false;
    litset out = {0};
    for (size_t i = 0; i < acc->n; i++)
        for (size_t k = 0; k < sub->n; k++)
            litset_push(&out, xasprintf("%s%s", acc->v[i], sub->v[k]));
    litset_free(acc);
    *acc = out;
    return true;
}

static bool is_quantifier(char c)
{
    return c == '?' || c == '*' || c == '+' || c == '{';
}

static bool finite_strings(const char *p, size_t from, size_t to, litset *out);

/* Extends acc by the plain sequence [i, to): literal characters and groups of them, nothing that
 * repeats, skips or matches a class of characters. */
static bool finite_seq(const char *p, size_t i, size_t to, litset *acc)
{
    while (i < to) {
        char ch = p[i];
        size_t start;
        if (ch == '\\' && p[i + 1] && !isalnum((unsigned char)p[i + 1])) {
            append_all(acc, p + i + 1, 1);
            i += 2;
        } else if (ch == '(') {
            size_t end = skip_group(p, i);
            litset sub = {0};
            bool ok = p[end - 1] == ')' && !is_quantifier(p[end]) && group_body(p, i, &start) && start < end &&
                      finite_strings(p, start, end - 1, &sub) && product(acc, &sub);
            litset_free(&sub);
            if (!ok)
                return false;
            i = end;
        } else if (strchr("\\[.^$)|?*+{", ch))
            return false;
        else
            append_all(acc, p + i++, 1);
    }
    return true;
}

/* Every string [from, to) can match, when that is a finite alternation of plain strings (at most
 * LITSET_MAX); false otherwise. */
static bool finite_strings(const char *p, size_t from, size_t to, litset *out)
{
    for (size_t a = from; a <= to;) {
        size_t b = next_bar(p, a, to);
        litset acc = {0};
        litset_push(&acc, xstrdup(""));
        bool ok = finite_seq(p, a, b, &acc) && out->n + acc.n <= LITSET_MAX;
        for (size_t i = 0; ok && i < acc.n; i++)
            litset_push(out, TAKE_STR(acc.v[i]));
        litset_free(&acc);
        if (!ok)
            return false;
        a = b + 1;
    }
    return true;
}

/* Past this length a literal is selective enough, and a longer one scans no faster (the
 * prefilter's window is 16 bytes): among such sets the later, usually more specific one (the
 * error code after the API name) is kept, and a single literal beats any set. */
#define LITERAL_GOOD 16

static size_t capped(size_t score)
{
    return score < LITERAL_GOOD ? score : LITERAL_GOOD;
}

static void consider_set(walk *w, litset *s)
{
    if (s->n > 0 && s->n <= LITSET_MAX && capped(litset_score(s)) >= capped(w->set_score) && litset_score(s)) {
        litset_free(&w->set);
        w->set = *s;
        w->set_score = litset_score(s);
        *s = (litset){0};
    } else
        litset_free(s);
}

/* A break: what the runs hold is a candidate, and one empty run starts. */
static void run_end(walk *w)
{
    if (w->runs.n == 1 && strlen(w->runs.v[0]) > strlen(w->best)) {
        free(w->best);
        w->best = TAKE_STR(w->runs.v[0]);
    } else if (w->runs.n > 1) {
        litset s = w->runs;
        w->runs = (litset){0};
        consider_set(w, &s);
    }
    litset_free(&w->runs);
    litset_push(&w->runs, xstrdup(""));
    w->last_lit = false;
}

/* A quantifier makes the atom before it optional: take it back out of the runs. */
static void drop_last_atom(walk *w)
{
    for (size_t i = 0; w->last_lit && i < w->runs.n; i++) {
        size_t n = strlen(w->runs.v[i]);
        if (n > 0 && (unsigned char)w->runs.v[i][n - 1] >= 0x80) {   /* part of a UTF-8 sequence */
            litset_free(&w->runs);
            litset_push(&w->runs, xstrdup(""));
            return;
        }
        if (n > 0)
            w->runs.v[i][n - 1] = 0;
    }
}

static void walk_seq(const char *p, size_t i, size_t to, walk *w);

static void walk_init(walk *w, bool sets)
{
    *w = (walk){ .sets = sets, .best = xstrdup("") };
    litset_push(&w->runs, xstrdup(""));
}

static void walk_done(walk *w)
{
    run_end(w);
    litset_free(&w->runs);
}

/* The longest literal of each '|' branch of [from, to): every match contains one of them. Fails
 * (empty set) when a branch has none. */
static litset branch_literals(const char *p, size_t from, size_t to)
{
    litset s = {0};
    for (size_t a = from; a <= to;) {
        size_t b = next_bar(p, a, to);
        walk w;
        walk_init(&w, false);
        walk_seq(p, a, b, &w);
        walk_done(&w);
        if (!w.best[0]) {
            free(w.best);
            litset_free(&s);
            return s;
        }
        litset_push(&s, w.best);
        a = b + 1;
    }
    return s;
}

/* A required group: plain content continues the runs, so does an alternation of plain strings
 * (multiplying them); any other alternation ends them and offers its branches' literals. */
static void walk_group(const char *p, size_t start, size_t close, walk *w)
{
    if (next_bar(p, start, close) == close) {
        walk_seq(p, start, close, w);
        w->last_lit = false;
        return;
    }
    if (!w->sets) {
        run_end(w);
        return;
    }
    litset fin = {0};
    if (finite_strings(p, start, close, &fin) && product(&w->runs, &fin)) {
        litset_free(&fin);
        w->last_lit = false;
        return;
    }
    litset_free(&fin);
    run_end(w);
    litset s = branch_literals(p, start, close);
    consider_set(w, &s);
}

/* Walks [i, to): the runs grow by plain characters and by the content of required groups. */
static void walk_seq(const char *p, size_t i, size_t to, walk *w)
{
    while (i < to) {
        char ch = p[i];
        size_t start;
        if (is_quantifier(ch)) {
            drop_last_atom(w);
            run_end(w);
            i = ch == '{' ? skip_braces(p, i) : i + 1;
        } else if (ch == '\\' && p[i + 1] && !isalnum((unsigned char)p[i + 1])) {
            append_all(&w->runs, p + i + 1, 1);
            w->last_lit = true;
            i += 2;
        } else if (ch == '(') {
            size_t end = skip_group(p, i);
            if (p[end - 1] == ')' && !is_quantifier(p[end]) && group_body(p, i, &start) && start < end)
                walk_group(p, start, end - 1, w);
            else
                run_end(w);
            i = end;
        } else if (strchr("\\[.^$)|", ch)) {
            run_end(w);
            i = ch == '[' ? skip_class(p, i) : ch == '\\' ? (p[i + 1] ? skip_escape(p, i) : i + 1) : i + 1;
        } else {
            append_all(&w->runs, p + i, 1);
            w->last_lit = true;
            i++;
        }
    }
}

/* Option settings that change what a literal matches: (?i), (?x), (?xx), also inside (?mi) or
 * (?s-i:...). \Q..\E quoting and (*ACCEPT), which ends a match early, are not followed either. */
static bool unsupported(const char *p)
{
    if (strstr(p, "\\Q") || strstr(p, "(*ACCEPT"))
        return true;
    for (const char *q = strstr(p, "(?"); q; q = strstr(q + 1, "(?")) {
        size_t n = strspn(q + 2, "imnsxUJ^-");
        if ((q[2 + n] == ')' || q[2 + n] == ':') && (memchr(q + 2, 'i', n) || memchr(q + 2, 'x', n)))
            return true;
    }
    return false;
}

char *literal_required(const char *p)
{
    size_t len = strlen(p);
    if (unsupported(p) || next_bar(p, 0, len) != len)
        return xstrdup("");
    walk w;
    walk_init(&w, false);
    walk_seq(p, 0, len, &w);
    walk_done(&w);
    return w.best;
}

litset literal_any(const char *p)
{
    size_t len = strlen(p);
    litset none = {0};
    if (unsupported(p))
        return none;
    if (next_bar(p, 0, len) != len) {
        litset s = branch_literals(p, 0, len);
        if (s.n > LITSET_MAX)
            litset_free(&s);
        return s;
    }
    walk w;
    walk_init(&w, true);
    walk_seq(p, 0, len, &w);
    walk_done(&w);
    if (w.best[0] && capped(strlen(w.best)) >= capped(w.set_score)) {
        litset_free(&w.set);
        litset_push(&w.set, w.best);
        return w.set;
    }
    free(w.best);
    return w.set;
}
