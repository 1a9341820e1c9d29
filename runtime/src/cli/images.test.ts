import test from "ava";
import { decimalSize } from "./stats";

test("image sizes read as docker images prints them: decimal units, three significant digits", (t) => {
  for (const [bytes, text] of [
    [0, "0B"],
    [999, "999B"],
    [1234, "1.23kB"],
    [4_200_000, "4.2MB"],
    [106_319_624, "106MB"],
    [1_500_000_000, "1.5GB"],
  ] as const) {
    t.is(decimalSize(bytes, 3), text, String(bytes));
  }
});
