/* The azure-ready phase: tell Azure's WireServer the VM is Ready, so a VM
 * created from a generalized image is marked provisioned instead of being
 * rebooted (../shared/notes/azure-deploy.md §6).
 *
 * Detection (report_ready = auto) reads two DMI strings the kernel exports:
 * sys_vendor "Microsoft Corporation" says Hyper-V, and the chassis asset tag
 * 7783-7084-3265-9085-8269-3286-77 is what Azure's hosts put there (and what
 * cloud-init's ds-identify and WALinuxAgent test for), which sets Azure apart
 * from an on-premises Hyper-V that has no WireServer.  Neither is attested:
 * the host writes both.  That is fine here, because the host also decides
 * whether the VM runs at all; a lying host can only make the init talk to it
 * or not.  The vmbus and the HCL report were not used: vmbus exists on every
 * Hyper-V (and cannot be emulated under TCG, so a test could not show it),
 * and the HCL report is on confidential sizes only and needs the TPM before
 * the report.
 *
 * Failures are never fatal: the report is a control-plane signal, not a
 * security gate (the workload's secrets are gated by attestation alone), and
 * the host sees the network anyway.  The whole phase is bounded by
 * [azure] ready_timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/fileio.h"
#include "cvmkit/net.h"
#include "cvmkit/wireserver.h"
#include "init.h"

/* One DMI string, trailing newline and blanks removed. */
static int read_dmi(const char *dir, const char *name, char *out, size_t size)
{
	char path[256];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = cvm_read_file(path, 4096, &buf, &len);
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len >= size) {
		free(buf);
		return -E2BIG;
	}
	memcpy(out, buf, len);
	out[len] = 0;
	free(buf);
	return 0;
}

int init_azure_detect(const char *dmi_dir)
{
	char vendor[128], tag[128];

	if (read_dmi(dmi_dir, "sys_vendor", vendor, sizeof(vendor)) < 0 ||
	    read_dmi(dmi_dir, "chassis_asset_tag", tag, sizeof(tag)) < 0)
		return 0;
	return !strcmp(vendor, "Microsoft Corporation") && !strcmp(tag, INIT_AZURE_ASSET_TAG);
}

static const char *step_name(enum cvm_wireserver_step s)
{
	return s == CVM_WS_STEP_VERSIONS ? "probe the protocol versions"
	       : s == CVM_WS_STEP_GOALSTATE ? "fetch the goal state"
					    : "post the health report";
}

int init_azure_report_ready(const struct init_config *c, char *line, size_t size)
{
	struct cvm_wireserver_options o = { 0 };
	struct cvm_wireserver_result res;
	uint64_t start = cvm_net_now_ms();
	char why[96];
	int r;

	o.deadline_ms = cvm_net_deadline((uint64_t)c->azure_ready_timeout * 1000u);
	r = cvm_wireserver_report_ready(&o, &res);
	if (r == 0) {
		snprintf(line, size,
			 "azure: reported Ready to " CVM_WIRESERVER_ADDRESS
			 " (protocol %s, incarnation %s, container %s, instance %s) in %.1f s",
			 res.version, res.gs.incarnation, res.gs.container_id, res.gs.instance_id,
			 (double)(cvm_net_now_ms() - start) / 1000.0);
		return 0;
	}
	/* The last attempt's cause: an HTTP status, or the transport or parse error. */
	if (res.error == -EREMOTEIO)
		snprintf(why, sizeof(why), "HTTP %d", res.status);
	else if (res.error == -EMSGSIZE)
		snprintf(why, sizeof(why), "answer larger than %u bytes", CVM_WIRESERVER_MAX_XML);
	else if (res.error == -EBADMSG)
		snprintf(why, sizeof(why), "malformed answer");
	else if (res.error == -EPROTONOSUPPORT)
		snprintf(why, sizeof(why), "neither protocol %s nor %s offered", CVM_WIRESERVER_VERSION,
			 CVM_WIRESERVER_VERSION_ALT);
	else
		snprintf(why, sizeof(why), "%s", strerror(-res.error));
	snprintf(line, size,
		 "azure: Ready not reported (unable to %s: %s; %s after %u attempt%s in %.1f s); continuing without it",
		 step_name(res.step), why, r == -ETIMEDOUT ? "gave up at the deadline" : "not retried", res.attempts,
		 res.attempts == 1 ? "" : "s", (double)(cvm_net_now_ms() - start) / 1000.0);
	return r;
}

int init_azure_ready(const struct init_config *c, const char *dmi_dir, char *line, size_t size)
{
	line[0] = 0;
	if (c->azure_ready == INIT_AZURE_READY_NO)
		return 1;
	if (c->azure_ready == INIT_AZURE_READY_AUTO && !init_azure_detect(dmi_dir)) {
		snprintf(line, size,
			 "azure: not Azure (DMI sys_vendor and chassis asset tag say otherwise): Ready not reported "
			 "(report_ready = auto)");
		return 1;
	}
	return init_azure_report_ready(c, line, size);
}
