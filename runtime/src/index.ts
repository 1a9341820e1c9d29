// The runtime's public surface: its CLI commands, and the daemon for tests that run one in-process.
import type { Command } from "../../cli/index";
import { execCommand, inspectCommand, logsCommand, rmCommand, stopCommand } from "./cli/containers";
import { imageBuildCommand } from "./cli/image-build";
import { imageInspectCommand, imageRmCommand } from "./cli/image-manage";
import { imageImportCommand, imageLsCommand } from "./cli/images";
import { psCommand } from "./cli/ps";
import { runCommand } from "./cli/run";
import { statsCommand } from "./cli/stats";
import { volumeCreateCommand, volumeLsCommand, volumeRmCommand } from "./cli/volumes";
import { daemonCommand } from "./daemon";

export const runtimeCommands: Command[] = [
  runCommand,
  psCommand,
  inspectCommand,
  logsCommand,
  execCommand,
  stopCommand,
  rmCommand,
  imageImportCommand,
  imageLsCommand,
  imageInspectCommand,
  imageRmCommand,
  imageBuildCommand,
  statsCommand,
  volumeLsCommand,
  volumeCreateCommand,
  volumeRmCommand,
  daemonCommand,
];
export { EngineClient, resolveHost } from "./api/client";
export type { Daemon, DaemonOptions } from "./daemon";
export { startDaemon } from "./daemon";
export type { ContainerState, RunSpec } from "./engine/types";
export { RuntimeError } from "./errors";
