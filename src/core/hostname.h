/* hostname: DNS name patterns ("example.com", "*.example.com" where * is one
 * label), compared case-insensitively; a trailing dot and a :port are not
 * part of a name. */
#ifndef PULLGATE_CORE_HOSTNAME_H
#define PULLGATE_CORE_HOSTNAME_H

#include <stdbool.h>

#include "core/slice.h"

bool hostname_matches(const char *pattern, struct slice name);

/* The host part of a Host header value: strips ":port" and "[...]" brackets'
 * port for IPv6 literals, and a trailing dot. */
struct slice hostname_from_host_header(struct slice host);

#endif
