#include "timeparse.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

static bool digits(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm), so no
 * timegm() and no TZ environment is involved. */
/* Two digits; a non-digit sets *bad. Branch-free: this runs for every line replay reads. */
static inline int two(const char *p, unsigned *bad)
{
    unsigned a = (unsigned)(unsigned char)p[0] - '0', b = (unsigned)(unsigned char)p[1] - '0';
    *bad |= (a > 9) | (b > 9);
    return (int)(a * 10 + b);
}

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static size_t parse_offset(const char *p, size_t left, int64_t *off_sec)
{
    *off_sec = 0;
    if (left >= 1 && p[0] == 'Z')
        return 1;
    if (left >= 6 && (p[0] == '+' || p[0] == '-') && p[3] == ':') {
        int hh, mm;
        if (!digits(p + 1, 2, &hh) || !digits(p + 4, 2, &mm) || hh > 23 || mm > 59)
            return 0;
        *off_sec = (hh * 3600 + mm * 60) * (p[0] == '-' ? -1 : 1);
        return 6;
    }
    return 0;
}

size_t ts_parse(const char *line, size_t len, uint64_t *usec)
{
    size_t i = 0;
    if (len > 0 && line[0] == '[')
        i = 1;
    if (len < i + 19)
        return 0;
    const char *p = line + i;
    unsigned bad = 0;
    int y = two(p, &bad) * 100 + two(p + 2, &bad), mo = two(p + 5, &bad), d = two(p + 8, &bad);
    int h = two(p + 11, &bad), mi = two(p + 14, &bad), s = two(p + 17, &bad);
    if (bad || p[4] != '-' || p[7] != '-' || (p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':')
        return 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return 0;
    i += 19;
    uint64_t frac = 0;
    if (i < len && (line[i] == ',' || line[i] == '.')) {
        size_t start = ++i;
        uint64_t scale = 100000;
        while (i < len && line[i] >= '0' && line[i] <= '9') {
            if (i - start < 6) {
                frac += (uint64_t)(line[i] - '0') * scale;
                scale /= 10;
            }
            i++;
        }
        if (i == start)
            return 0;
    }
    int64_t off = 0;
    i += parse_offset(line + i, len - i, &off);
    if (i < len && line[i] == ']')
        i++;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    if (secs < 0)
        return 0;
    *usec = (uint64_t)secs * 1000000 + frac;
    return i;
}

const char *ts_format(uint64_t usec, char *buf, size_t n)
{
    /* Four year digits, as ts_parse reads back: later (corrupt) times print as 9999-12-31T23:59:59.999Z. */
    usec = usec < UINT64_C(253402300799999999) ? usec : UINT64_C(253402300799999999);
    time_t t = (time_t)(usec / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(usec / 1000 % 1000));
    return buf;
}
