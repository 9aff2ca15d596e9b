/*
 * llm.h — an OpenAI-compatible chat-completions client, for narratives.
 *
 * Works with any server speaking POST {llm.url}/chat/completions with
 * {"model","messages":[{"role","content"}],"temperature",
 * "response_format"} and answering {"choices":[{"message":{"content"}}]}:
 * OpenAI, llama.cpp's server, Ollama, vLLM.  Settings (config.h):
 *
 *   llm.url        base URL ("http://127.0.0.1:8080/v1") or the full
 *                  …/chat/completions URL
 *   llm.model      model name
 *   llm.timeout    seconds per attempt (default 30)
 *   llm.retries    extra attempts on timeouts, 429 and 5xx (default 2)
 *   llm.json_mode  ask for a JSON object (response_format; default on)
 *
 * The API key comes from the credentials file (key llm.api_key), else
 * the environment variable CLIENTPULSE_LLM_API_KEY; none is sent when
 * neither has one (local servers).  It is never logged (cp_secret
 * registers it for redaction).  HTTP goes through http.h, so only
 * binaries that call these functions link libcurl.
 */
#ifndef CP_LLM_H
#define CP_LLM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cp_llm cp_llm;

/* Read the settings; 0 or CP_EX_CONFIG after saying what is missing. */
int cp_llm_open(cp_llm **out);
void cp_llm_close(cp_llm *l);
/* The model name (for records). */
const char *cp_llm_model(const cp_llm *l);
/*
 * One completion: the assistant message's content (caller frees), or
 * NULL with a one-line reason in err (timeout, HTTP status, a reply that
 * is not a chat completion).
 */
char *cp_llm_chat(cp_llm *l, const char *system, const char *user,
    char *err, size_t errlen);

#endif
