// JSON as Go's encoder writes uint64/int64 values: exact integers, even beyond 2^53
// (timeNano, cgroup "max" limits). Values that may exceed 2^53 are bigint in memory.

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** JSON.stringify that writes bigints as JSON integers. */
export function goJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? rawJSON(v.toString()) : v));
}
