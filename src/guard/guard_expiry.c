/* guard_expiry: see guard_expiry.h. */
#include "guard/guard_expiry.h"

#include "guard/guard.h"
#include "tls/cert_inventory.h"

static void warn_one(void *arg, const struct cert_info *ci)
{
	cert_inventory_warn("guard", ci);
}

void guard_check_expiry_all(struct guard_server *srv)
{
	struct guard_snapshot *snap = __atomic_load_n(&srv->current, __ATOMIC_ACQUIRE);
	if (snap)
		guard_tls_inventory(snap->tls, warn_one, NULL);
}
