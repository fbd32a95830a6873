/* Azure WireServer (168.63.129.16): the agent-less "Ready" health report a VM
 * created from a generalized image must send, or Azure reboots it and fails
 * its provisioning (../shared/notes/azure-deploy.md §6; Microsoft's
 * "Creating generalized images without a provisioning agent").
 *
 * Three layers, usable separately:
 *   1. Parsers of the WireServer's untrusted XML answers ((buf, len), a hard
 *      size cap, caller-owned result structs, no allocation; fuzzed by
 *      tests/fuzz/fuzz-wireserver.c): the versions list and the goal state.
 *   2. The builder of the health report body (deterministic bytes into a
 *      caller buffer).
 *   3. cvm_wireserver_report_ready: versions probe, goal state, health POST,
 *      retried until a deadline.
 *
 * The XML accepted is the subset the WireServer speaks: an optional XML
 * declaration, comments, elements with attributes, character data with the
 * five predefined entities and numeric references.  DOCTYPE, CDATA and
 * processing instructions after the declaration are refused (-EBADMSG), so
 * no entity expansion or external reference can ever happen.
 *
 * Every function returns 0 (or a length) or a negative errno, writes ret_*
 * only on success, and never prints. */
#ifndef CVMKIT_WIRESERVER_H
#define CVMKIT_WIRESERVER_H

#include <stddef.h>
#include <stdint.h>

#define CVM_WIRESERVER_ADDRESS "168.63.129.16"
/* The protocol version of Microsoft's documented sequence (and of cloud-init
 * and WALinuxAgent); 2015-04-05 is accepted when a WireServer no longer
 * offers it (cloud-api-adaptor's azure-ready prefers that one). */
#define CVM_WIRESERVER_VERSION "2012-11-30"
#define CVM_WIRESERVER_VERSION_ALT "2015-04-05"
#define CVM_WIRESERVER_AGENT_NAME "cvmkit"

/* Cap on any XML answer (versions, goal state).  Real goal states are a few
 * KiB; anything larger is refused with -EMSGSIZE, unparsed. */
#define CVM_WIRESERVER_MAX_XML (64u << 10)
/* Elements may nest this deep; deeper is -EBADMSG. */
#define CVM_WIRESERVER_MAX_DEPTH 24

/* ------------------------------------------------------------------ versions */

#define CVM_WIRESERVER_MAX_VERSIONS 16
#define CVM_WIRESERVER_VERSION_LEN 32

/* GET /?comp=versions: <Versions><Preferred><Version>..</Version></Preferred>
 * <Supported><Version>..</Version>...</Supported></Versions>. */
struct cvm_wireserver_versions {
	size_t n_supported;   /* Supported/Version entries kept (the first 16) */
	char supported[CVM_WIRESERVER_MAX_VERSIONS][CVM_WIRESERVER_VERSION_LEN + 1];
	char preferred[CVM_WIRESERVER_VERSION_LEN + 1]; /* "" when absent */
};

/* -EMSGSIZE over the cap; -EBADMSG for malformed XML, a root other than
 * Versions, or a version string that is empty, longer than 32 bytes or not
 * [0-9A-Za-z.-]. */
int cvm_wireserver_parse_versions(const uint8_t *buf, size_t len, struct cvm_wireserver_versions *ret);

/* The version to speak: CVM_WIRESERVER_VERSION when supported, else
 * CVM_WIRESERVER_VERSION_ALT, else NULL. */
const char *cvm_wireserver_pick_version(const struct cvm_wireserver_versions *v);

/* ------------------------------------------------------------------ goal state */

#define CVM_WIRESERVER_INCARNATION_LEN 10
#define CVM_WIRESERVER_ID_LEN 255

/* GET /machine/?comp=goalstate: the three values the health report echoes.
 * Each is the first occurrence of GoalState/Incarnation,
 * GoalState/Container/ContainerId and
 * GoalState/Container/RoleInstanceList/RoleInstance/InstanceId (as
 * Microsoft's sample takes them), entities decoded and surrounding
 * whitespace trimmed. */
struct cvm_wireserver_goalstate {
	char incarnation[CVM_WIRESERVER_INCARNATION_LEN + 1]; /* decimal digits */
	char container_id[CVM_WIRESERVER_ID_LEN + 1];         /* printable ASCII, no spaces */
	char instance_id[CVM_WIRESERVER_ID_LEN + 1];          /* printable ASCII, no spaces */
};

/* -EMSGSIZE over the cap; -EBADMSG for malformed XML, a root other than
 * GoalState, a missing value, an incarnation that is not 1-10 digits, an
 * id that is empty, longer than 255 bytes, or holds bytes outside 0x21-0x7e. */
int cvm_wireserver_parse_goalstate(const uint8_t *buf, size_t len, struct cvm_wireserver_goalstate *ret);

/* ------------------------------------------------------------------ health report */

/* Renders the Ready report for POST /machine?comp=health:
 *   <?xml version="1.0" encoding="utf-8"?><Health><GoalStateIncarnation>N
 *   </GoalStateIncarnation><Container><ContainerId>C</ContainerId>
 *   <RoleInstanceList><Role><InstanceId>I</InstanceId><Health><State>Ready
 *   </State></Health></Role></RoleInstanceList></Container></Health>
 * (one line, no whitespace between elements), escaping & < > " ' in the ids.
 * Returns the length (without the NUL it also writes), -ENOBUFS when size is
 * too small, -EINVAL for a goal state the parser would not have produced. */
int cvm_wireserver_build_health(const struct cvm_wireserver_goalstate *gs, char *buf, size_t size);

/* ------------------------------------------------------------------ client */

struct cvm_wireserver_options {
	const char *base_url;       /* NULL: "http://168.63.129.16" */
	const char *agent_name;     /* x-ms-agent-name; NULL: CVM_WIRESERVER_AGENT_NAME */
	uint64_t deadline_ms;       /* absolute (cvm_net_deadline); nothing runs past it */
	unsigned request_timeout_ms;/* per request (0: 10 s), never past the deadline */
	unsigned retry_ms;          /* first wait between attempts (0: 1 s); doubles, capped at 5 s */
};

/* Steps, for the caller's one line on failure. */
enum cvm_wireserver_step { CVM_WS_STEP_VERSIONS, CVM_WS_STEP_GOALSTATE, CVM_WS_STEP_HEALTH };

struct cvm_wireserver_result {
	struct cvm_wireserver_goalstate gs;  /* what was reported (on success) */
	char version[CVM_WIRESERVER_VERSION_LEN + 1];
	unsigned attempts;
	/* On failure: the step and HTTP status of the last attempt (0: none
	 * arrived), and its error. */
	enum cvm_wireserver_step step;
	int status;
	int error;
};

/* Reports Ready: GET /?comp=versions, GET /machine/?comp=goalstate with
 * x-ms-version, POST /machine?comp=health with x-ms-version, x-ms-agent-name
 * and Content-Type text/xml;charset=utf-8.  An attempt that fails on the
 * network or with an HTTP status other than 2xx is repeated from the start
 * (a new goal state each time: the incarnation may have moved on) until the
 * deadline; a malformed or oversized answer ends it at once, as retrying
 * cannot fix what the WireServer chose to send.  *res is always filled (also
 * on failure, for the caller's report).  Returns 0, or:
 *   -ETIMEDOUT   the deadline passed (res->error: the last attempt's error)
 *   -EBADMSG     malformed XML or an unusable goal state / versions list
 *   -EMSGSIZE    an answer over CVM_WIRESERVER_MAX_XML
 *   -EPROTONOSUPPORT  the WireServer offers neither protocol version
 *   -ENOMEM */
int cvm_wireserver_report_ready(const struct cvm_wireserver_options *o, struct cvm_wireserver_result *res);

#endif
