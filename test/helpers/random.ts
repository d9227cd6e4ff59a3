/** mulberry32: a reproducible sequence; the seed is printed, MAGCHANGER_TEST_SEED replays it. */
export function seededRandom(seed: number): (n: number) => number {
  console.info(
    `random seed ${seed} (set MAGCHANGER_TEST_SEED=${seed} to replay)`,
  );
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
