/**
 * The two VCL programs of the local HTTP caches and how one is made concrete: the backend's host
 * and port are written into the file's `{{BACKEND_HOST}}` / `{{BACKEND_PORT}}` placeholders.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * `front`: Workers Cache in front of the Worker (front.vcl). `back`: CloudFront in front of the
 * origin (back.vcl).
 */
export const VARNISH_ROLES = {
  front: { file: "front.vcl" },
  back: { file: "back.vcl" },
} as const;

/**
 * A request both answer themselves, without their backend (a PURGE without its headers is a 400),
 * so a start can tell when Varnish serves.
 */
export const VARNISH_PROBE_METHOD = "PURGE";

export type VarnishRole = keyof typeof VARNISH_ROLES;

export interface VarnishBackend {
  /** An IP address or a host name. */
  readonly host: string;
  readonly port: number;
}

export class VclTemplateError extends Error {
  override readonly name = "VclTemplateError";
}

const HOST = /^[A-Za-z0-9.:-]{1,253}$/;
const PLACEHOLDERS = ["{{BACKEND_HOST}}", "{{BACKEND_PORT}}"] as const;

/** The VCL source of `role` with its backend filled in. */
export function renderVcl(role: VarnishRole, backend: VarnishBackend): string {
  if (!HOST.test(backend.host))
    throw new VclTemplateError(`backend host '${backend.host}' is not an IP address or a host name`);
  if (!Number.isInteger(backend.port) || backend.port < 1 || backend.port > 65535)
    throw new VclTemplateError(`backend port ${backend.port} is not a port number 1-65535`);
  const path = fileURLToPath(new URL(VARNISH_ROLES[role].file, import.meta.url));
  const template = readFileSync(path, "utf8");
  for (const placeholder of PLACEHOLDERS) {
    // Exactly one of each, so a template edit cannot leave a backend half filled in.
    if (template.split(placeholder).length !== 2)
      throw new VclTemplateError(`${path} must hold ${placeholder} exactly once`);
  }
  return template.replace("{{BACKEND_HOST}}", backend.host).replace("{{BACKEND_PORT}}", String(backend.port));
}
