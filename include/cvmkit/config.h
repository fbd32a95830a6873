/* The image configuration: one INI file (see README "Configuration") whose
 * every key is also a command-line option; the command line wins.  Keys are
 * checked against one schema, so a typo is an error, never silently ignored. */
#ifndef CVMKIT_CONFIG_H
#define CVMKIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CVM_CONF_MAX_ENTRIES 512

struct cvm_conf_key {
	const char *section, *key;
	bool multi;            /* may repeat (workload.arg, workload.env) */
	bool path;             /* a host path, resolved against the config file's folder */
	const char *def;       /* default, or NULL */
	const char *help;
};

/* The schema, terminated by an entry with section == NULL. */
extern const struct cvm_conf_key cvm_conf_schema[];

struct cvm_conf_entry {
	const struct cvm_conf_key *k;
	char *value;           /* owned */
	bool from_cli;
};

struct cvm_conf {
	size_t n;
	struct cvm_conf_entry e[CVM_CONF_MAX_ENTRIES];
	char error[256];       /* what went wrong, for the caller to print */
};

void cvm_conf_init(struct cvm_conf *c);
void cvm_conf_free(struct cvm_conf *c);

/* Loads a config file.  Relative paths in path-type keys are resolved against
 * the file's folder.  -EINVAL for an unknown key or section (c->error names
 * file, line and key), -EBADMSG for a malformed line, or the read error. */
int cvm_conf_load(struct cvm_conf *c, const char *file);

/* Sets "section.key" from the command line: the first command-line value of a
 * key replaces all values that came from the file; further ones append (multi
 * keys) or replace.  -EINVAL for an unknown key (c->error says which). */
int cvm_conf_set(struct cvm_conf *c, const char *dotted, const char *value);

/* The value of a single key (the default when unset), or NULL. */
const char *cvm_conf_get(const struct cvm_conf *c, const char *dotted);
/* Up to max values of a multi key, in order; returns how many there are. */
size_t cvm_conf_get_all(const struct cvm_conf *c, const char *dotted, const char **out, size_t max);

/* The schema entry for "section.key", or NULL. */
const struct cvm_conf_key *cvm_conf_lookup(const char *dotted);

#endif
