import test from "ava";
import { mergeEnv } from "./image-config";

test("mergeEnv: a later value replaces the earlier in its place; new keys are appended", (t) => {
  t.deepEqual(mergeEnv(["PATH=/bin", "A=1", "B=2"], ["A=one", "C=3", "PATH=/usr/bin:/bin"]), [
    "PATH=/usr/bin:/bin",
    "A=one",
    "B=2",
    "C=3",
  ]);
  // Duplicates within one list keep one entry, the last value, as Docker's merge does.
  t.deepEqual(mergeEnv(["A=1", "A=2"], []), ["A=2"]);
  t.deepEqual(mergeEnv([], ["EMPTY=", "A=x=y"]), ["EMPTY=", "A=x=y"]);
});
