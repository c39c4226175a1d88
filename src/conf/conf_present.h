/* conf_present: which role sections a configuration file has, so that
 * `pullgate check` validates each of them. */
#ifndef PULLGATE_CONF_CONF_PRESENT_H
#define PULLGATE_CONF_CONF_PRESENT_H

#include <stdbool.h>

#include "conf/conf_error.h"

/* False (with errs filled) when the file cannot be read or parsed. */
bool conf_sections_present(const char *path, bool *guard, bool *edge, struct conf_errors *errs);

#endif
