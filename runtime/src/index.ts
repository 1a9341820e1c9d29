// The runtime's public surface: its CLI commands, and the daemon for tests that run one in-process.
import type { Command } from "../../cli/index";
import { buildCommand, builderPruneCommand } from "./cli/build";
import { inspectCommand, rmCommand, stopCommand } from "./cli/containers";
import { cpCommand } from "./cli/cp";
import { execCommand } from "./cli/exec";
import { commitCommand, diffCommand, exportCommand } from "./cli/files";
import { imageBuildCommand } from "./cli/image-build";
import {
  imageInspectCommand,
  imagePruneCommand,
  imageRmCommand,
  imageSaveCommand,
  imageTagCommand,
} from "./cli/image-manage";
import { imageImportCommand, imageLsCommand } from "./cli/images";
import {
  killCommand,
  pauseCommand,
  renameCommand,
  restartCommand,
  startCommand,
  unpauseCommand,
  waitCommand,
} from "./cli/lifecycle";
import { attachCommand, eventsCommand, logsCommand } from "./cli/logs";
import {
  networkConnectCommand,
  networkCreateCommand,
  networkDisconnectCommand,
  networkInspectCommand,
  networkLsCommand,
  networkRmCommand,
} from "./cli/networks";
import { containerPruneCommand, portCommand } from "./cli/port-prune";
import { psCommand } from "./cli/ps";
import { createCommand, runCommand } from "./cli/run";
import { statsCommand } from "./cli/stats";
import { systemDfCommand } from "./cli/system";
import { topCommand } from "./cli/top";
import { updateCommand } from "./cli/update";
import { volumeCreateCommand, volumeLsCommand, volumePruneCommand, volumeRmCommand } from "./cli/volumes";
import { downCommand, upCommand } from "./compose/index";
import { daemonCommand } from "./daemon";

export const runtimeCommands: Command[] = [
  runCommand,
  createCommand,
  startCommand,
  psCommand,
  inspectCommand,
  logsCommand,
  execCommand,
  stopCommand,
  killCommand,
  restartCommand,
  pauseCommand,
  unpauseCommand,
  renameCommand,
  updateCommand,
  waitCommand,
  rmCommand,
  containerPruneCommand,
  portCommand,
  topCommand,
  cpCommand,
  diffCommand,
  exportCommand,
  commitCommand,
  eventsCommand,
  attachCommand,
  imageImportCommand,
  imageLsCommand,
  imageInspectCommand,
  imageRmCommand,
  imageTagCommand,
  imageSaveCommand,
  imagePruneCommand,
  imageBuildCommand,
  buildCommand,
  builderPruneCommand,
  statsCommand,
  systemDfCommand,
  volumeLsCommand,
  volumeCreateCommand,
  volumeRmCommand,
  volumePruneCommand,
  networkLsCommand,
  networkCreateCommand,
  networkInspectCommand,
  networkRmCommand,
  networkConnectCommand,
  networkDisconnectCommand,
  upCommand,
  downCommand,
  daemonCommand,
];
export { EngineClient, resolveHost } from "./api/client";
export type { Daemon, DaemonOptions } from "./daemon";
export { startDaemon } from "./daemon";
export type { ContainerState, RunSpec } from "./engine/types";
export { RuntimeError } from "./errors";
