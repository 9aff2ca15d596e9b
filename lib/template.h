/*
 * template.h — outreach and narrative templates with placeholders.
 *
 *   "Congratulations to {person|your new leadership team} on the {role}
 *    appointment at {account}."
 *
 * {name} is replaced by the value of name; {name|text} uses text when
 * there is no value (no person in the evidence, no amount…); "{{" and
 * "}}" are literal braces.  Names are the ones in cp_tpl_names; anything
 * else is refused when a playbook is imported, so a typo never reaches an
 * email.  Rendering is deterministic and never fails: a placeholder with
 * neither value nor fallback takes the provider's default.
 */
#ifndef CP_TEMPLATE_H
#define CP_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* The placeholders templates may use (NULL-terminated). */
extern const char *const cp_tpl_names[];

/* Check a template: balanced braces, known names.  false with a reason. */
bool cp_tpl_check(const char *tpl, char *err, size_t errlen);

/*
 * The value of a placeholder: set *have and return it when there is one;
 * else return a default (or NULL for "") and leave *have false, so the
 * template's own fallback wins over the default.
 */
typedef const char *(*cp_tpl_fn)(void *arg, const char *name, bool *have);

/* Append tpl with its placeholders replaced to out. */
void cp_tpl_render(strbuf *out, const char *tpl, cp_tpl_fn fn, void *arg);

#endif
