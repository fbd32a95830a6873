/* The rules for what a configuration hands the KBS client: resource paths,
 * kbs:// URIs, sealed-secret strings and the names secrets are delivered
 * under.  One definition, used by cvm-image when it checks a configuration,
 * by the init's configuration parser at boot and by the KBS client, so that
 * build time and boot time cannot disagree.  Pure string checks: nothing
 * allocates or prints. */
#ifndef CVMKIT_KBSREF_H
#define CVMKIT_KBSREF_H

#include <stdbool.h>
#include <stddef.h>

#define CVM_KBS_PATH_MAX 512
/* A delivered secret's name is a file name under /run/secrets and an
 * environment variable name. */
#define CVM_SECRET_NAME_MAX 64
/* A sealed secret in a configuration line: the init's configuration lines
 * hold at most 4 KiB, with room left for the name and destination. */
#define CVM_SEALED_REF_MAX 3500

/* Whether PATH is "<repo>/<type>/<tag>" as the KBS routes it: each segment
 * [A-Za-z0-9_-][A-Za-z0-9_.-]*, the whole below CVM_KBS_PATH_MAX - 32. */
bool cvm_kbs_resource_path_valid(const char *path);

/* "kbs://[host[:port]]/<repo>/<type>/<tag>" -> "<repo>/<type>/<tag>" in
 * out[cap].  The authority is ignored, as the CDH ignores it: the configured
 * KBS answers.  Returns 0, -EOPNOTSUPP for a kbs+plugin:// URI, -EINVAL for
 * anything else that is not such a URI, -ENOBUFS when out is too small. */
int cvm_sealed_uri_path(const char *uri, char *out, size_t cap);

/* [A-Za-z_][A-Za-z0-9_]*, 1 to CVM_SECRET_NAME_MAX characters. */
bool cvm_secret_name_valid(const char *s, size_t n);

/* "sealed." followed by three non-empty base64url parts separated by dots,
 * at most CVM_SEALED_REF_MAX characters in all.  The JWS inside is parsed
 * and verified when the secret is unsealed, not here. */
bool cvm_sealed_ref_valid(const char *s, size_t n);

#endif
