/* Unit tests for body_pump's passthrough: when a body may be read straight
 * into the output buffer, and that doing so counts it like body_pump_run. */
#include "proxy/body_pump.h"
#include "unit.h"

struct bp_tee {
	size_t seen;
	char last;
};

static void bp_tee_fn(void *arg, const char *p, size_t n)
{
	struct bp_tee *t = arg;
	t->seen += n;
	if (n)
		t->last = p[n - 1];
}

TEST(body_pump_direct_length_body)
{
	struct buf in = { 0 }, out = { 0 };
	REQUIRE(buf_ensure(&in, 4096) && buf_ensure(&out, 65536));
	struct body_pump p;
	struct bp_tee tee = { 0 };
	body_pump_init(&p, HTTP_BODY_LENGTH, 40000, false);
	p.tee = bp_tee_fn;
	p.tee_arg = &tee;

	/* Room is the whole contiguous tail, so a read takes all that came. */
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 65536);
	memset(buf_wr(&out), 'a', 30000);
	CHECK_EQ_INT(body_pump_direct_took(&p, buf_wr(&out), 30000), 30000);
	buf_commit(&out, 30000);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 65536 - 30000);
	/* Bytes waiting in in go first, through body_pump_run. */
	buf_append(&in, "bbbb", 4);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 0);
	CHECK_EQ_INT(body_pump_run(&p, &in, &out, false), 1);
	CHECK_EQ_INT(buf_len(&in), 0);
	/* A read past the body's end: only the body's 9,996 bytes count. */
	memset(buf_wr(&out), 'c', 9996);
	memset(buf_wr(&out) + 9996, 'X', 100);
	CHECK_EQ_INT(body_pump_direct_took(&p, buf_wr(&out), 10096), 9996);
	buf_commit(&out, 9996);
	CHECK(p.input_done);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 0);
	CHECK_EQ_INT(body_pump_run(&p, &in, &out, false), 1);
	CHECK(p.done);
	CHECK_EQ_INT(p.moved, 40000);
	CHECK_EQ_INT(buf_len(&out), 40000);
	CHECK_EQ_INT(tee.seen, 40000);
	CHECK_EQ_INT(tee.last, 'c');
	buf_free(&in);
	buf_free(&out);
}

TEST(body_pump_direct_refused)
{
	struct buf in = { 0 }, out = { 0 };
	REQUIRE(buf_ensure(&in, 4096) && buf_ensure(&out, 65536));
	struct body_pump p;

	/* Re-framed (close-delimited in, chunked out) and chunked bodies
	 * go through body_pump_run. */
	body_pump_init(&p, HTTP_BODY_CLOSE, 0, true);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 0);
	body_pump_init(&p, HTTP_BODY_CHUNKED, 0, false);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 0);
	body_pump_init(&p, HTTP_BODY_NONE, 0, false);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 0);
	/* Close-delimited, unchanged: any amount, while out has the room. */
	body_pump_init(&p, HTTP_BODY_CLOSE, 0, false);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 65536);
	buf_commit(&out, 65536 - 1000);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 16384), 0);
	CHECK_EQ_INT(body_pump_direct_room(&p, &in, &out, 512), 1000);
	/* The end of a close-delimited body is still the sender's close. */
	CHECK_EQ_INT(body_pump_direct_took(&p, buf_wr(&out), 0), 0);
	CHECK(!p.input_done);
	CHECK_EQ_INT(body_pump_run(&p, &in, &out, true), 1);
	CHECK(p.done);
	buf_free(&in);
	buf_free(&out);
}
