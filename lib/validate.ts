/**
 * The grammars of every value that reaches a shell, an SSH option, libvirt XML or a Docker argument
 * (stack config, `virtperf trial` and `virtperf e2e` flags, --target JSON). Each check returns undefined
 * when the value is fine, else what is allowed, so config.ts and the CLI word their own errors.
 *
 * Quoting (lib/shell.ts) makes any byte safe for bash, but not for every consumer: ssh splits option
 * values on whitespace and expands `%` and `~` in IdentityFile/UserKnownHostsFile, qemu reads `:` and
 * `,` in its own syntax, a newline ends a known_hosts line. So paths are kept to characters that mean the
 * same thing everywhere they go; what passes is passed literally (test/unit/stacks/hostile-values.test.ts).
 */
import { isIPv4, isIPv6 } from "node:net";

/** C0 controls, DEL (never in a path, name or key). */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One path component: POSIX portable filename characters plus `+`, not starting with '-'. */
const COMPONENT = /^[A-Za-z0-9._+][A-Za-z0-9._+-]*$/;

export const PATH_ALLOWED = "letters, digits, '.', '_', '+', '-' between '/' (no spaces, quotes, '$', '%', '~', control or non-ASCII characters; no component starting with '-')";

/** A path: absolute unless `relative` is allowed (then it must not start with '-'). */
export function pathProblem(value: unknown, opts: { relative?: boolean } = {}): string | undefined {
  const allowed = `${opts.relative ? "a path" : "an absolute path"} of ${PATH_ALLOWED}`;
  if (typeof value !== "string" || value === "") return allowed;
  if (CONTROL.test(value)) return `${allowed}; it has a control character`;
  if (!opts.relative && !value.startsWith("/")) return `${allowed}; it does not start with '/'`;
  const body = value.replace(/^\/+/, "").replace(/\/+$/, "");
  if (body === "") return value.startsWith("/") ? undefined : allowed;
  for (const p of body.split("/")) if (!COMPONENT.test(p)) return `${allowed}; ${JSON.stringify(p)} is not`;
  return undefined;
}

/** RFC 1123 host name (labels of letters, digits, '-', not at either end), or an IPv4/IPv6 literal. */
export function hostProblem(value: unknown): string | undefined {
  const allowed = "a host name (RFC 1123: letters, digits, '-' and '.') or an IP address";
  if (typeof value !== "string" || value === "") return allowed;
  if (isIPv4(value) || (isIPv6(value) && !value.includes("%"))) return undefined;
  if (value.length > 253) return `${allowed}; longer than 253 characters`;
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return value.replace(/\.$/, "").split(".").every((l) => label.test(l)) ? undefined : allowed;
}

/** POSIX portable user name: letters, digits, '.', '_', '-', not starting with '-'; at most 32. */
export function userProblem(value: unknown): string | undefined {
  const allowed = "a user name of letters, digits, '.', '_', '-', not starting with '-', at most 32 characters";
  return typeof value === "string" && /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/.test(value) ? undefined : allowed;
}

export function portProblem(value: unknown): string | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535 ? undefined : "a TCP port 1..65535";
}

/** `[user@]host[:port]` of an SSH jump host. */
export function jumpProblem(value: unknown): string | undefined {
  const allowed = "[user@]host[:port] of one jump host";
  if (typeof value !== "string") return allowed;
  const m = /^(?:([^@]+)@)?([^@:]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(value);
  if (!m) return allowed;
  if (m[1] !== undefined && userProblem(m[1])) return allowed;
  if (hostProblem(m[2]!.replace(/^\[|\]$/g, ""))) return allowed;
  if (m[3] !== undefined && portProblem(Number(m[3]))) return allowed;
  return undefined;
}

/**
 * One public key line as in known_hosts or authorized_keys, without host patterns or markers:
 * `<type> <base64> [comment]`; the comment is printable ASCII (it is written to known_hosts literally).
 */
export function publicKeyProblem(value: unknown): string | undefined {
  const allowed = "public key lines \"<type> <base64> [comment]\" (e.g. the host's /etc/ssh/ssh_host_ed25519_key.pub), printable ASCII";
  if (typeof value !== "string") return allowed;
  const lines = value.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return allowed;
  for (const l of lines) {
    if (!/^(?:ssh-[a-z0-9-]+|ecdsa-sha2-nistp(?:256|384|521)|sk-[a-z0-9@.-]+)(?:-cert-v01@openssh\.com)? [A-Za-z0-9+/]+={0,3}(?: [\x20-\x7e]*)?$/.test(l)) return allowed;
  }
  return undefined;
}

/** A Docker image reference: `[registry[:port]/]name[/name...][:tag][@digest]` (distribution/reference grammar). */
export function dockerReferenceProblem(value: unknown): string | undefined {
  const allowed = "a Docker image reference like debian:bookworm or registry.example:5000/team/image:tag[@sha256:...]";
  if (typeof value !== "string" || value.length > 255) return allowed;
  const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  const domain = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*(?::[0-9]+)?";
  const re = new RegExp(`^(?:${domain}/)?${component}(?:/${component})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`);
  return re.test(value) ? undefined : allowed;
}

/** Names of containers, domains, environments, runs: letters, digits, '.', '_', '-', starting with a letter or digit. */
export function nameProblem(value: unknown): string | undefined {
  const allowed = "a name of letters, digits, '.', '_', '-', starting with a letter or digit, at most 128 characters";
  return typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value) ? undefined : allowed;
}

/** A libvirt URI of the forms virtperf uses: qemu:///system, qemu:///session, qemu+ssh://... without spaces or quotes. */
export function libvirtUriProblem(value: unknown): string | undefined {
  const allowed = "a libvirt URI like qemu:///system";
  return typeof value === "string" && /^[a-z][a-z0-9+]*:\/\/[A-Za-z0-9._@:/?=&+-]*$/.test(value) ? undefined : allowed;
}
