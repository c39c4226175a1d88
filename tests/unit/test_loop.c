/* The loop's timers: order, re-arming later and earlier, disarming. */
#include "unit.h"

#include "core/loop.h"

struct fired {
	struct loop *loop;
	uint64_t start_ms;
	int order[8];
	uint64_t at_ms[8];
	int count;
};

struct probe {
	struct timer timer;
	struct fired *log;
	int id;
	bool stops; /* the last one: ends the run */
	int rearm_ms; /* > 0: arms itself again once, from its callback */
};

static void probe_fire(struct timer *t)
{
	struct probe *p = t->data;
	struct fired *f = p->log;
	if (f->count < 8) {
		f->order[f->count] = p->id;
		f->at_ms[f->count] = loop_now(f->loop) - f->start_ms;
		f->count++;
	}
	if (p->rearm_ms > 0) {
		timer_arm(f->loop, t, (uint64_t)p->rearm_ms);
		p->rearm_ms = 0;
	} else if (p->stops) {
		loop_stop(f->loop);
	}
}

static void probe_init(struct probe *p, struct fired *f, int id)
{
	*p = (struct probe){ .log = f, .id = id };
	timer_init(&p->timer, probe_fire, p);
}

/* A timer moved later fires at its new time, not its first; one moved
 * earlier fires at its new time; a disarmed one never fires; a timer armed
 * again from its own callback fires again. */
TEST(loop_timers_rearm_later_earlier_and_disarm)
{
	struct fired f = { .loop = loop_new() };
	REQUIRE(f.loop);
	f.start_ms = loop_now(f.loop);
	struct probe later, earlier, gone, again, last;
	probe_init(&later, &f, 1);
	probe_init(&earlier, &f, 2);
	probe_init(&gone, &f, 3);
	probe_init(&again, &f, 4);
	probe_init(&last, &f, 5);
	last.stops = true;
	again.rearm_ms = 40;

	timer_arm(f.loop, &later.timer, 20);
	timer_arm(f.loop, &earlier.timer, 150);
	timer_arm(f.loop, &gone.timer, 10);
	timer_arm(f.loop, &again.timer, 30);
	timer_arm(f.loop, &last.timer, 200);

	timer_arm(f.loop, &later.timer, 120); /* later: only noted */
	timer_arm(f.loop, &earlier.timer, 50); /* earlier: moves up */
	timer_disarm(f.loop, &gone.timer);
	CHECK(timer_armed(&later.timer));
	CHECK(!timer_armed(&gone.timer));

	CHECK_EQ_INT(loop_run(f.loop), 0);
	/* again (30), earlier (50), again's second round (70), later (120), last. */
	REQUIRE(f.count == 5);
	CHECK_EQ_INT(f.order[0], 4);
	CHECK_EQ_INT(f.order[1], 2);
	CHECK_EQ_INT(f.order[2], 4);
	CHECK_EQ_INT(f.order[3], 1);
	CHECK_EQ_INT(f.order[4], 5);
	CHECK(f.at_ms[0] >= 30);
	CHECK(f.at_ms[1] >= 50 && f.at_ms[1] < 120);
	CHECK(f.at_ms[2] >= 70);
	CHECK(f.at_ms[3] >= 120);
	CHECK(f.at_ms[4] >= 200);
	CHECK(!timer_armed(&later.timer) && !timer_armed(&again.timer));
	loop_free(f.loop);
}

/* Many timers, each pushed back several times, fire in the order of their
 * last times. */
TEST(loop_timers_fire_in_order_of_their_last_times)
{
	struct fired f = { .loop = loop_new() };
	REQUIRE(f.loop);
	f.start_ms = loop_now(f.loop);
	struct probe p[6];
	/* Final times: 60, 10, 50, 20, 40, then 30 (the last to be set). */
	static const int first[6] = { 5, 40, 8, 1, 30, 2 };
	static const int final_ms[6] = { 60, 10, 50, 20, 40, 30 };
	for (int i = 0; i < 6; i++) {
		probe_init(&p[i], &f, i);
		timer_arm(f.loop, &p[i].timer, (uint64_t)first[i]);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 6; i++)
			timer_arm(f.loop, &p[i].timer, (uint64_t)(final_ms[i] - 2 + round));
	p[0].stops = true; /* the latest */
	CHECK_EQ_INT(loop_run(f.loop), 0);
	static const int want[6] = { 1, 3, 5, 4, 2, 0 };
	REQUIRE(f.count == 6);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_INT(f.order[i], want[i]);
		CHECK(f.at_ms[i] >= (uint64_t)final_ms[want[i]]);
	}
	loop_free(f.loop);
}
