export const INSTALL_FLAGS: string[];
export function packAndInstall(dir: string, options?: { offline?: boolean }): { tarball: string; prefix: string; modules: string; bin: string };
