/**
 * Every failure of the cgroups module. `code` is stable for callers to branch on:
 * INVALID_LIMIT, INVALID_PATH, NO_CGROUPS, CONTROLLER_MISSING, CGROUP_NOT_FOUND, CGROUP_WRITE_FAILED,
 * CGROUP_BUSY, CGROUP_FAILED.
 */
export class CgroupError extends Error {
  override readonly name = "CgroupError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
