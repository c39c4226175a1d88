/*
 * inverse_mod: a^-1 mod m by Bernstein and Yang's divsteps ("Fast
 * constant-time gcd computation and modular inversion", 2019), in the
 * variable-time form with 62 divsteps per round (as libsecp256k1's
 * modinv64_var): each round runs the steps on the low 64 bits of f and g
 * alone, keeping the 2x2 matrix that they amount to, then applies the
 * matrix to the whole f, g and to the coefficients d, e (kept mod m).
 * About 1.4 µs for 256 bits here, where a binary extended Euclid takes 7
 * and BN_mod_inverse 15.
 *
 * Numbers are five signed limbs of 62 bits; invariants, after each round:
 * f = d·a and g = e·a (mod m), f odd, d and e in (-2m, m).
 */
#include "tls/inverse_mod.h"

#include <string.h>

typedef __int128 i128;

#define M62 (UINT64_MAX >> 2)

struct s62 {
	int64_t v[5]; /* v[0] + v[1]·2^62 + ... + v[4]·2^248 */
};

/* [u v; q r]: 2^62 times what 62 divsteps do to (f, g). */
struct divsteps_matrix {
	int64_t u, v, q, r;
};

/* 62 divsteps on the low words of f (odd) and g; eta is minus the
 * divsteps' delta. Returns the new eta. Runs of zero bits of g are taken
 * at once, and each step cancels up to 4 or 6 low bits of g. */
static int64_t divsteps_62(int64_t eta, uint64_t f, uint64_t g, struct divsteps_matrix *t)
{
	uint64_t u = 1, v = 0, q = 0, r = 1;
	int i = 62;
	for (;;) {
		/* A sentinel bit: count zeros only up to the steps left. */
		int zeros = __builtin_ctzll(g | (UINT64_MAX << i));
		g >>= zeros;
		u <<= zeros;
		v <<= zeros;
		eta -= zeros;
		i -= zeros;
		if (i == 0)
			break;
		uint64_t m, w;
		int limit;
		if (eta < 0) {
			uint64_t tmp;
			eta = -eta;
			tmp = f, f = g, g = -tmp;
			tmp = u, u = q, q = -tmp;
			tmp = v, v = r, r = -tmp;
			/* The multiple of f that clears min(limit, 6) low bits of g. */
			limit = (int)eta + 1 > i ? i : (int)eta + 1;
			m = (UINT64_MAX >> (64 - limit)) & 63U;
			w = (f * g * (f * f - 2)) & m;
		} else {
			limit = (int)eta + 1 > i ? i : (int)eta + 1;
			m = (UINT64_MAX >> (64 - limit)) & 15U;
			w = f + (((f + 1) & 4) << 1);
			w = (-w * g) & m;
		}
		g += f * w;
		q += u * w;
		r += v * w;
	}
	t->u = (int64_t)u;
	t->v = (int64_t)v;
	t->q = (int64_t)q;
	t->r = (int64_t)r;
	return eta;
}

/* (d, e) = t·(d, e) / 2^62 mod m: multiples of m are added first so that
 * the division is exact; d and e stay in (-2m, m). minv62 = m^-1 mod 2^62. */
static void update_de(struct s62 *d, struct s62 *e, const struct divsteps_matrix *t, const struct s62 *mod,
                      uint64_t minv62)
{
	const int64_t u = t->u, v = t->v, q = t->q, r = t->r;
	int64_t sd = d->v[4] >> 63, se = e->v[4] >> 63;
	int64_t md = (u & sd) + (v & se), me = (q & sd) + (r & se);
	i128 cd = (i128)u * d->v[0] + (i128)v * e->v[0];
	i128 ce = (i128)q * d->v[0] + (i128)r * e->v[0];
	md -= (int64_t)((minv62 * (uint64_t)cd + (uint64_t)md) & M62);
	me -= (int64_t)((minv62 * (uint64_t)ce + (uint64_t)me) & M62);
	cd += (i128)mod->v[0] * md;
	ce += (i128)mod->v[0] * me;
	cd >>= 62; /* the low 62 bits are zero now */
	ce >>= 62;
	for (int i = 1; i < 5; i++) {
		cd += (i128)u * d->v[i] + (i128)v * e->v[i] + (i128)mod->v[i] * md;
		ce += (i128)q * d->v[i] + (i128)r * e->v[i] + (i128)mod->v[i] * me;
		d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
		e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
		cd >>= 62;
		ce >>= 62;
	}
	d->v[4] = (int64_t)cd;
	e->v[4] = (int64_t)ce;
}

/* (f, g) = t·(f, g) / 2^62 (exact), on their len low limbs. */
static void update_fg(int len, struct s62 *f, struct s62 *g, const struct divsteps_matrix *t)
{
	const int64_t u = t->u, v = t->v, q = t->q, r = t->r;
	i128 cf = (i128)u * f->v[0] + (i128)v * g->v[0];
	i128 cg = (i128)q * f->v[0] + (i128)r * g->v[0];
	cf >>= 62;
	cg >>= 62;
	for (int i = 1; i < len; i++) {
		cf += (i128)u * f->v[i] + (i128)v * g->v[i];
		cg += (i128)q * f->v[i] + (i128)r * g->v[i];
		f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
		g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
		cf >>= 62;
		cg >>= 62;
	}
	f->v[len - 1] = (int64_t)cf;
	g->v[len - 1] = (int64_t)cg;
}

/* x in (-2m, m) to [0, m), negated first when sign is negative. */
static void normalize(struct s62 *x, int64_t sign, const struct s62 *mod)
{
	int64_t r[5], add = x->v[4] >> 63, neg = sign >> 63;
	for (int i = 0; i < 5; i++)
		r[i] = ((x->v[i] + (mod->v[i] & add)) ^ neg) - neg;
	for (int i = 0; i < 4; i++) {
		r[i + 1] += r[i] >> 62;
		r[i] &= (int64_t)M62;
	}
	add = r[4] >> 63;
	for (int i = 0; i < 5; i++)
		r[i] += mod->v[i] & add;
	for (int i = 0; i < 4; i++) {
		r[i + 1] += r[i] >> 62;
		r[i] &= (int64_t)M62;
	}
	memcpy(x->v, r, sizeof r);
}

static void to_s62(struct s62 *out, const u256 a)
{
	out->v[0] = (int64_t)(a[0] & M62);
	out->v[1] = (int64_t)((a[0] >> 62 | a[1] << 2) & M62);
	out->v[2] = (int64_t)((a[1] >> 60 | a[2] << 4) & M62);
	out->v[3] = (int64_t)((a[2] >> 58 | a[3] << 6) & M62);
	out->v[4] = (int64_t)(a[3] >> 56);
}

/* For x in [0, m): every limb non-negative and below 2^62. */
static void from_s62(u256 out, const struct s62 *x)
{
	uint64_t v[5];
	for (int i = 0; i < 5; i++)
		v[i] = (uint64_t)x->v[i];
	out[0] = v[0] | v[1] << 62;
	out[1] = v[1] >> 2 | v[2] << 60;
	out[2] = v[2] >> 4 | v[3] << 58;
	out[3] = v[3] >> 6 | v[4] << 56;
}

void inverse_mod_var(u256 inv, const u256 a, const u256 m)
{
	struct s62 mod, d = {{0}}, e = {{1}}, f, g;
	to_s62(&mod, m);
	/* m^-1 mod 2^64 by Newton's iteration: each step doubles the good
	 * low bits (m·m = 1 mod 8 to start with, for m odd). */
	uint64_t minv = m[0];
	for (int i = 0; i < 5; i++)
		minv *= 2 - m[0] * minv;
	f = mod;
	to_s62(&g, a);
	int len = 5;
	int64_t eta = -1;
	for (;;) {
		struct divsteps_matrix t;
		eta = divsteps_62(eta, (uint64_t)f.v[0], (uint64_t)g.v[0], &t);
		update_de(&d, &e, &t, &mod, minv & M62);
		update_fg(len, &f, &g, &t);
		if (g.v[0] == 0) {
			int64_t rest = 0;
			for (int j = 1; j < len; j++)
				rest |= g.v[j];
			if (rest == 0)
				break; /* g = 0: f = ±gcd = ±1, and d = ±a^-1 */
		}
		/* Once the top limbs of f and g are 0 or -1 both, they fold into
		 * the limb below, and the rounds work on one limb fewer. */
		int64_t fn = f.v[len - 1], gn = g.v[len - 1];
		int64_t cond = ((int64_t)len - 2) >> 63;
		cond |= fn ^ (fn >> 63);
		cond |= gn ^ (gn >> 63);
		if (cond == 0) {
			f.v[len - 2] = (int64_t)((uint64_t)f.v[len - 2] | (uint64_t)fn << 62);
			g.v[len - 2] = (int64_t)((uint64_t)g.v[len - 2] | (uint64_t)gn << 62);
			len--;
		}
	}
	normalize(&d, f.v[len - 1], &mod);
	from_s62(inv, &d);
}
