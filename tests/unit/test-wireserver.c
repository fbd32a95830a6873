/* net/wireserver.c: goal-state and versions parsing, the health report, and
 * the retrying client against a scripted HTTP server on 127.0.0.1.
 *
 * Expected bytes come from Microsoft's "Creating generalized images without
 * a provisioning agent" (the page ../shared/notes/azure-deploy.md §6 cites as
 * MSD-noagent): its sample run prints the report it sent for ContainerId
 * 7b324f53-983a-43bc-b919-1775d6077608, InstanceId
 * fbb84507-46cd-4f4e-bd78-a2edaa9d059b._thstringnopa2, incarnation 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/net.h"
#include "cvmkit/wireserver.h"
#include "testutil.h"

#define DOC_CONTAINER "7b324f53-983a-43bc-b919-1775d6077608"
#define DOC_INSTANCE "fbb84507-46cd-4f4e-bd78-a2edaa9d059b._thstringnopa2"
/* The body the documentation's sample printed, byte for byte. */
#define DOC_HEALTH                                                                                                  \
	"<Health><GoalStateIncarnation>1</GoalStateIncarnation><Container><ContainerId>" DOC_CONTAINER           \
	"</ContainerId><RoleInstanceList><Role><InstanceId>" DOC_INSTANCE                                        \
	"</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>"

/* A goal state laid out as the WireServer sends it (declaration, schema
 * attributes, Machine block, configuration URLs with escaped ampersands). */
static const char GOAL[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
	"<GoalState xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	"xsi:noNamespaceSchemaLocation=\"goalstate10.xsd\">\r\n"
	"  <Version>2012-11-30</Version>\r\n  <Incarnation>1</Incarnation>\r\n"
	"  <Machine>\r\n    <ExpectedState>Started</ExpectedState>\r\n"
	"    <StopRolesDeadlineHint>300000</StopRolesDeadlineHint>\r\n"
	"    <LBProbePorts><Port>16001</Port></LBProbePorts>\r\n"
	"    <ExpectHealthReport>FALSE</ExpectHealthReport>\r\n  </Machine>\r\n"
	"  <Container>\r\n    <ContainerId>" DOC_CONTAINER "</ContainerId>\r\n"
	"    <RoleInstanceList>\r\n      <RoleInstance>\r\n"
	"        <InstanceId>\r\n          " DOC_INSTANCE "\r\n        </InstanceId>\r\n"
	"        <State>Started</State>\r\n        <Configuration>\r\n"
	"          <HostingEnvironmentConfig>http://168.63.129.16:80/machine/a/b?comp=config&amp;type="
	"hostingEnvironmentConfig&amp;incarnation=1</HostingEnvironmentConfig>\r\n"
	"          <!-- a comment -->\r\n          <Certificates/>\r\n"
	"        </Configuration>\r\n      </RoleInstance>\r\n    </RoleInstanceList>\r\n  </Container>\r\n"
	"</GoalState>\r\n";

static const char VERSIONS[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Versions><Preferred><Version>2012-11-30"
			       "</Version></Preferred><Supported><Version>2015-04-05</Version><Version>2012-11-30"
			       "</Version><Version>2010-12-15</Version></Supported></Versions>";

static int parse_gs(const char *s, struct cvm_wireserver_goalstate *g)
{
	return cvm_wireserver_parse_goalstate((const uint8_t *)s, strlen(s), g);
}

/* s with the first occurrence of from replaced by to (caller frees). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(s) + strlen(to) + 1);
	assert_non_null(out);
	sprintf(out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

static void goalstate_fields(void **state)
{
	struct cvm_wireserver_goalstate g;

	assert_int_equal(parse_gs(GOAL, &g), 0);
	assert_string_equal(g.incarnation, "1");
	assert_string_equal(g.container_id, DOC_CONTAINER);
	assert_string_equal(g.instance_id, DOC_INSTANCE); /* whitespace around it trimmed */
}

static void health_matches_documentation(void **state)
{
	struct cvm_wireserver_goalstate g;
	char body[2048];
	const char *want = "<?xml version=\"1.0\" encoding=\"utf-8\"?>" DOC_HEALTH;

	assert_int_equal(parse_gs(GOAL, &g), 0);
	assert_int_equal(cvm_wireserver_build_health(&g, body, sizeof(body)), (int)strlen(want));
	assert_string_equal(body, want);
	/* Exactly big enough (with its NUL), and one byte short. */
	assert_int_equal(cvm_wireserver_build_health(&g, body, strlen(want) + 1), (int)strlen(want));
	assert_int_equal(cvm_wireserver_build_health(&g, body, strlen(want)), -ENOBUFS);
}

static void entities_round_trip(void **state)
{
	struct cvm_wireserver_goalstate g;
	char body[2048];
	char *gs = replace(GOAL, DOC_INSTANCE, "a&amp;b&lt;c&gt;&quot;&apos;&#x41;&#66;");

	assert_int_equal(parse_gs(gs, &g), 0);
	assert_string_equal(g.instance_id, "a&b<c>\"'AB");
	assert_true(cvm_wireserver_build_health(&g, body, sizeof(body)) > 0);
	assert_non_null(strstr(body, "<InstanceId>a&amp;b&lt;c&gt;&quot;&apos;AB</InstanceId>"));
	free(gs);
}

static void first_occurrence_wins(void **state)
{
	struct cvm_wireserver_goalstate g;
	char *gs = replace(GOAL, "</RoleInstance>", "</RoleInstance><RoleInstance><InstanceId>second</InstanceId></RoleInstance>");

	assert_int_equal(parse_gs(gs, &g), 0);
	assert_string_equal(g.instance_id, DOC_INSTANCE);
	free(gs);
}

static void goalstate_rejects(void **state)
{
	static const struct {
		const char *from, *to;
	} bad[] = {
		{ "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<?xml version=\"1.0\"?><!DOCTYPE GoalState [<!ENTITY x \"y\">]>" },
		{ "<Incarnation>1", "<Incarnation><![CDATA[1]]>" },
		{ "<Incarnation>1", "<Incarnation>-1" },
		{ "<Incarnation>1", "<Incarnation>12345678901" },
		{ "<Incarnation>1</Incarnation>", "" },
		{ "<ContainerId>" DOC_CONTAINER, "<ContainerId>" },
		{ "</Container>", "</Containr>" },
		{ "<InstanceId>", "<InstanceID>" },
		{ "._thstringnopa2", "._th stringnopa2" },
		{ "._thstringnopa2", "._th&#1;x" },
		{ "&amp;type", "&nbsp;type" },
		{ "&amp;type", "&#xD800;type" },
		{ "<GoalState ", "<GoalStat " },
		{ "<Certificates/>", "<?pi x?>" },
		{ "<Certificates/>", "<Certificates a=\"1\"b=\"2\"/>" },
		{ "<Certificates/>", "<Certificates a=\"<\"/>" },
		{ "Started</ExpectedState>", "Sta\x01rted</ExpectedState>" },
		{ "</GoalState>\r\n", "</GoalState>\r\n<GoalState/>" },
		{ "</GoalState>\r\n", "</GoalState>\r\ntrailing" },
		{ "</GoalState>\r\n", "" },
	};
	struct cvm_wireserver_goalstate g;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *gs = replace(GOAL, bad[i].from, bad[i].to);

		memset(&g, 0x5a, sizeof(g));
		if (parse_gs(gs, &g) != -EBADMSG)
			fail_msg("case %zu (%s -> %s) was not refused", i, bad[i].from, bad[i].to);
		/* ret is written only on success */
		for (size_t j = 0; j < sizeof(g); j++)
			assert_int_equal(((uint8_t *)&g)[j], 0x5a);
		free(gs);
	}
	assert_int_equal(parse_gs("", &g), -EBADMSG);
	assert_int_equal(parse_gs("not xml", &g), -EBADMSG);
}

static void goalstate_caps(void **state)
{
	struct cvm_wireserver_goalstate g;
	size_t n = CVM_WIRESERVER_MAX_XML + 1;
	char *big = malloc(n + 1), *deep, *longid;
	char id[300];

	/* One byte over the cap is refused before any parsing. */
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, GOAL, strlen(GOAL));
	big[n] = 0;
	assert_int_equal(cvm_wireserver_parse_goalstate((uint8_t *)big, n, &g), -EMSGSIZE);
	assert_int_equal(cvm_wireserver_parse_goalstate((uint8_t *)big, n - 1, &g), 0);
	free(big);

	/* Nesting deeper than the cap. */
	deep = calloc(1, 64 * 8 + 64);
	assert_non_null(deep);
	strcpy(deep, "<GoalState>");
	for (int i = 0; i < CVM_WIRESERVER_MAX_DEPTH; i++)
		strcat(deep, "<a>");
	for (int i = 0; i < CVM_WIRESERVER_MAX_DEPTH; i++)
		strcat(deep, "</a>");
	strcat(deep, "</GoalState>");
	assert_int_equal(parse_gs(deep, &g), -EBADMSG);
	free(deep);

	/* Ids: 255 bytes fit, 256 do not. */
	memset(id, 'x', 255);
	id[255] = 0;
	longid = replace(GOAL, DOC_CONTAINER, id);
	assert_int_equal(parse_gs(longid, &g), 0);
	assert_int_equal(strlen(g.container_id), 255);
	free(longid);
	id[255] = 'x';
	id[256] = 0;
	longid = replace(GOAL, DOC_CONTAINER, id);
	assert_int_equal(parse_gs(longid, &g), -EBADMSG);
	free(longid);
}

static void health_refuses_invalid(void **state)
{
	struct cvm_wireserver_goalstate g = { "1", DOC_CONTAINER, "a b" };
	char body[2048];

	assert_int_equal(cvm_wireserver_build_health(&g, body, sizeof(body)), -EINVAL);
	strcpy(g.instance_id, "ok");
	strcpy(g.incarnation, "x");
	assert_int_equal(cvm_wireserver_build_health(&g, body, sizeof(body)), -EINVAL);
}

static void versions(void **state)
{
	struct cvm_wireserver_versions v;
	const char *only2015 = "<Versions><Supported><Version>2015-04-05</Version></Supported></Versions>";
	const char *none = "<Versions><Supported><Version>2009-01-01</Version></Supported></Versions>";
	const char *bad = "<Versions><Supported><Version>a b</Version></Supported></Versions>";

	assert_int_equal(cvm_wireserver_parse_versions((const uint8_t *)VERSIONS, strlen(VERSIONS), &v), 0);
	assert_int_equal(v.n_supported, 3);
	assert_string_equal(v.supported[0], "2015-04-05");
	assert_string_equal(v.preferred, "2012-11-30");
	assert_string_equal(cvm_wireserver_pick_version(&v), "2012-11-30");
	assert_int_equal(cvm_wireserver_parse_versions((const uint8_t *)only2015, strlen(only2015), &v), 0);
	assert_string_equal(cvm_wireserver_pick_version(&v), "2015-04-05");
	assert_int_equal(cvm_wireserver_parse_versions((const uint8_t *)none, strlen(none), &v), 0);
	assert_null(cvm_wireserver_pick_version(&v));
	assert_int_equal(cvm_wireserver_parse_versions((const uint8_t *)GOAL, strlen(GOAL), &v), -EBADMSG);
	assert_int_equal(cvm_wireserver_parse_versions((const uint8_t *)bad, strlen(bad), &v), -EBADMSG);
}

/* ------------------------------------------------------------------ client against a scripted server */

#define MAX_STEPS 8
struct server {
	int fd;
	uint16_t port;
	pthread_t thread;
	const char *answers[MAX_STEPS]; /* full HTTP responses in order; NULL: close without answering; "hang": never answer */
	size_t n_answers;
	char requests[MAX_STEPS][4096];
	size_t n_requests;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	for (size_t i = 0; i < s->n_answers; i++) {
		int c = accept(s->fd, NULL, NULL);
		char *rq = s->requests[s->n_requests];
		size_t len = 0;
		ssize_t n;

		if (c < 0)
			break;
		/* Read the head, then Content-Length bytes of body. */
		for (;;) {
			char *eoh, *cl;
			n = read(c, rq + len, sizeof(s->requests[0]) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			rq[len] = 0;
			eoh = strstr(rq, "\r\n\r\n");
			if (!eoh)
				continue;
			cl = strcasestr(rq, "Content-Length: ");
			if (!cl || (size_t)(eoh + 4 - rq) + strtoul(cl + 16, NULL, 10) <= len)
				break;
		}
		s->n_requests++;
		if (s->answers[i] && !strcmp(s->answers[i], "hang")) {
			sleep(2);
		} else if (s->answers[i]) {
			(void)!write(c, s->answers[i], strlen(s->answers[i]));
		}
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static char *ok_xml(const char *xml)
{
	char *r = malloc(strlen(xml) + 128);

	assert_non_null(r);
	sprintf(r, "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
		strlen(xml), xml);
	return r;
}

static const char HTTP500[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
static const char HTTP200[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static int run(struct server *s, unsigned timeout_ms, struct cvm_wireserver_result *res)
{
	char base[64];
	struct cvm_wireserver_options o = { .base_url = base, .retry_ms = 100, .request_timeout_ms = 1000 };

	snprintf(base, sizeof(base), "http://127.0.0.1:%u", s->port);
	o.deadline_ms = cvm_net_deadline(timeout_ms);
	return cvm_wireserver_report_ready(&o, res);
}

static void client_reports_ready(void **state)
{
	struct server s = { 0 };
	struct cvm_wireserver_result res;
	char *v = ok_xml(VERSIONS), *g = ok_xml(GOAL);
	const char *body;

	s.answers[0] = v, s.answers[1] = g, s.answers[2] = HTTP200, s.n_answers = 3;
	server_start(&s);
	assert_int_equal(run(&s, 5000, &res), 0);
	server_stop(&s);
	assert_int_equal(res.attempts, 1);
	assert_string_equal(res.version, "2012-11-30");
	assert_string_equal(res.gs.container_id, DOC_CONTAINER);
	assert_int_equal(s.n_requests, 3);
	assert_true(!strncmp(s.requests[0], "GET /?comp=versions HTTP/1.1\r\n", 30));
	assert_true(!strncmp(s.requests[1], "GET /machine/?comp=goalstate HTTP/1.1\r\n", 39));
	assert_non_null(strstr(s.requests[1], "\r\nx-ms-version: 2012-11-30\r\n"));
	assert_true(!strncmp(s.requests[2], "POST /machine?comp=health HTTP/1.1\r\n", 36));
	assert_non_null(strstr(s.requests[2], "\r\nx-ms-version: 2012-11-30\r\n"));
	assert_non_null(strstr(s.requests[2], "\r\nx-ms-agent-name: cvmkit\r\n"));
	assert_non_null(strstr(s.requests[2], "\r\nContent-Type: text/xml;charset=utf-8\r\n"));
	body = strstr(s.requests[2], "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, "<?xml version=\"1.0\" encoding=\"utf-8\"?>" DOC_HEALTH);
	free(v);
	free(g);
}

static void client_retries_500(void **state)
{
	struct server s = { 0 };
	struct cvm_wireserver_result res;
	char *v = ok_xml(VERSIONS), *g = ok_xml(GOAL);

	/* The goal state fails once with 500: the next attempt starts over. */
	s.answers[0] = v, s.answers[1] = HTTP500, s.answers[2] = v, s.answers[3] = g, s.answers[4] = HTTP200;
	s.n_answers = 5;
	server_start(&s);
	assert_int_equal(run(&s, 5000, &res), 0);
	server_stop(&s);
	assert_int_equal(res.attempts, 2);
	assert_int_equal(s.n_requests, 5);
	free(v);
	free(g);
}

static void client_gives_up_at_deadline(void **state)
{
	struct server s = { 0 };
	struct cvm_wireserver_result res;
	uint64_t t0 = cvm_net_now_ms();

	for (size_t i = 0; i < MAX_STEPS; i++)
		s.answers[i] = HTTP500;
	s.n_answers = MAX_STEPS;
	server_start(&s);
	assert_int_equal(run(&s, 700, &res), -ETIMEDOUT);
	assert_true(cvm_net_now_ms() - t0 < 1500);
	server_stop(&s);
	assert_true(res.attempts >= 2);
	assert_int_equal(res.step, CVM_WS_STEP_VERSIONS);
	assert_int_equal(res.status, 500);
	assert_int_equal(res.error, -EREMOTEIO);
}

static void client_hang_bounded(void **state)
{
	struct server s = { 0 };
	struct cvm_wireserver_result res;
	uint64_t t0 = cvm_net_now_ms();

	s.answers[0] = "hang", s.n_answers = 1;
	server_start(&s);
	assert_int_equal(run(&s, 800, &res), -ETIMEDOUT);
	assert_true(cvm_net_now_ms() - t0 < 1500);
	assert_int_equal(res.error, -ETIMEDOUT);
	server_stop(&s);
}

static void client_garbage_not_retried(void **state)
{
	struct server s = { 0 };
	struct cvm_wireserver_result res;
	char *v = ok_xml(VERSIONS), *g = ok_xml("<html>502 bad gateway</html>");

	s.answers[0] = v, s.answers[1] = g, s.n_answers = 2;
	server_start(&s);
	assert_int_equal(run(&s, 5000, &res), -EBADMSG);
	server_stop(&s);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.step, CVM_WS_STEP_GOALSTATE);
	free(v);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(goalstate_fields),
		cmocka_unit_test(health_matches_documentation),
		cmocka_unit_test(entities_round_trip),
		cmocka_unit_test(first_occurrence_wins),
		cmocka_unit_test(goalstate_rejects),
		cmocka_unit_test(goalstate_caps),
		cmocka_unit_test(health_refuses_invalid),
		cmocka_unit_test(versions),
		cmocka_unit_test(client_reports_ready),
		cmocka_unit_test(client_retries_500),
		cmocka_unit_test(client_gives_up_at_deadline),
		cmocka_unit_test(client_hang_bounded),
		cmocka_unit_test(client_garbage_not_retried),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
