export { Dashboard } from "./dashboard";
