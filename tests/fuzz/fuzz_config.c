/* The YAML config loader: any bytes give a config or positioned errors, never both and never
 * neither; a config that loads is compiled into rules, which then classify a text and a JSON
 * line on every source (the fuzzed rules' patterns and JSON conditions run for real). */
#include "fuzz.h"

static const char TEXT_LINE[] =
    "2024-10-14 06:21:39,234 - 41283 - [slurm_plugin.fleet_manager:_launch_instances] - ERROR - "
    "JobID 8812 - Failed RunInstances request (f478e99e): InsufficientInstanceCapacity - no capacity";
static const char JSON_LINE[] =
    "{\"datetime\": \"2024-10-14T06:21:39.234+00:00\", \"version\": 0, \"scheduler\": \"slurm\", "
    "\"cluster-name\": \"demo\", \"node-role\": \"HeadNode\", \"component\": \"clustermgtd\", "
    "\"level\": \"WARNING\", \"instance-id\": \"i-0123\", \"event-type\": \"static-node-health-check-failure\", "
    "\"message\": \"x\", \"detail\": {\"node\": {\"name\": \"q-st-c5-1\"}, \"failure-type\": [\"a\", \"b\"]}}";

static void classify_samples(const pcmon_config *c, rules *r)
{
    match m = {0}, clears[8] = {{0}};
    for (size_t s = 0; s < c->nsources; s++) {
        FUZZ_ASSERT(config_source(c, c->sources[s].name) != NULL);
        const char *line = c->sources[s].format == SOURCE_JSON ? JSON_LINE : TEXT_LINE;
        size_t len = strlen(line);
        enum match_what w = rules_eval(r, s, line, len, 1000000, &m);
        FUZZ_ASSERT(w == MATCH_NONE || (m.rule < c->nrules && rules_applies(r, m.rule, s)));
        size_t n = rules_eval_clears(r, s, line, len, clears, 8);
        FUZZ_ASSERT(n <= 8);
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(clears[i].rule < c->nrules && c->rules[clears[i].rule].kind == RULE_STATE);
        for (size_t ri = 0; ri < c->nrules; ri++)
            if (c->rules[ri].kind == RULE_FLATLINE && rules_applies(r, ri, s))
                (void)rules_flatline_activity(r, ri, line, len);
    }
    fields_free(&m.fields);
    for (size_t i = 0; i < 8; i++)
        fields_free(&clears[i].fields);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_errors errs = {0};
    pcmon_config *c = config_load_buffer("fuzz.yaml", (const char *)data, size, &errs);
    FUZZ_ASSERT((c == NULL) == (errs.n > 0));
    for (size_t i = 0; i < errs.n; i++)
        FUZZ_ASSERT(errs.v[i].msg && errs.v[i].line >= 0 && errs.v[i].col >= 0);
    if (c) {
        for (size_t i = 0; i < c->nnotifiers; i++)
            FUZZ_ASSERT(config_notifier(c, c->notifiers[i].name) != NULL);
        rules *r = rules_compile(c, &errs);
        FUZZ_ASSERT((r == NULL) == (errs.n > 0));
        if (r)
            classify_samples(c, r);
        rules_free(r);
    }
    config_errors_free(&errs);
    config_free(c);
    return 0;
}
