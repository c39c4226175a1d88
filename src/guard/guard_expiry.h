/*
 * guard_expiry: the guard's expiry warnings for everything its current TLS
 * set uses — server certificates, trust anchors, CRLs. Call at start, after
 * each reload and on a timer (twice a day): a certificate that was fine at
 * start-up expires while the guard runs.
 */
#ifndef PULLGATE_GUARD_GUARD_EXPIRY_H
#define PULLGATE_GUARD_GUARD_EXPIRY_H

struct guard_server;

/* Logs one warning per certificate or CRL close to, or past, its expiry
 * (cert_inventory_warn). Reads srv->current; call from the control thread,
 * which is the one that swaps it. */
void guard_check_expiry_all(struct guard_server *srv);

#endif
