/**
 * The commands that install a site's agent, filled in with the controller URL and the one-time
 * token — one way per place an ISP runs it (agent/README.md describes each step).
 */
export interface EnrolmentInput {
  controllerUrl: string;
  token: string;
  /** The site's router the agent manages when it runs on that router (its name in Mtandao). */
  routerName: string;
  /** The agent image in the ISP's registry (the dashboard's MTANDAO_AGENT_IMAGE). */
  agentImage?: string;
}

/** Placeholder for the image when the dashboard was not told where it is. */
export const IMAGE_PLACEHOLDER = 'REGISTRY/mtandao-agent:0.1.0';

/** RouterOS quotes a value in double quotes with \ " $ escaped. */
const ros = (value: string): string => `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;

/** A Linux box at the site: the npm package, its systemd unit, enrolment at the first start. */
export function linuxCommands({ controllerUrl, token }: EnrolmentInput): string {
  return [
    '# Node.js 20 or newer, then the agent package (mtandao-agent-<version>.tgz, from npm run agent:pack)',
    'sudo npm install --global ./mtandao-agent-0.1.0.tgz',
    'AGENT="$(npm root --global)/@mtandao/agent"',
    'sudo install -d -m 0700 /etc/mtandao-agent',
    `printf 'MTANDAO_CONTROLLER_URL=%s\\nMTANDAO_ENROLL_TOKEN=%s\\n' '${controllerUrl}' '${token}' | sudo install -m 0600 /dev/stdin /etc/mtandao-agent/agent.env`,
    "# list the site's routers and their logins in config.json (same names as in Mtandao)",
    'sudo install -m 0600 "$AGENT/agent.example.json" /etc/mtandao-agent/config.json && sudo nano /etc/mtandao-agent/config.json',
    'sudo cp "$AGENT/mtandao-agent.service" /etc/systemd/system/ && sudo systemctl daemon-reload',
    'sudo systemctl enable --now mtandao-agent && sudo mtandao-agent doctor --config /etc/mtandao-agent/config.json --state-dir /var/lib/mtandao-agent',
  ].join('\n');
}

/** The router itself (RouterOS 7.21+ with the container package and device-mode container=yes). */
export function routerOsCommands({ controllerUrl, token, routerName, agentImage }: EnrolmentInput): string {
  return [
    '# a veth for the agent; the router is 172.17.0.1 on it',
    '/interface/veth/add name=veth-mtandao address=172.17.0.2/24 gateway=172.17.0.1',
    '/interface/bridge/add name=containers',
    '/interface/bridge/port/add bridge=containers interface=veth-mtandao',
    '/ip/address/add address=172.17.0.1/24 interface=containers',
    '/ip/firewall/nat/add chain=srcnat src-address=172.17.0.0/24 action=masquerade comment="mtandao agent to the controller"',
    '/ip/firewall/filter/add chain=input src-address=172.17.0.2 protocol=tcp dst-port=8728 action=accept place-before=0 comment="mtandao agent to the API"',
    "# the agent's own login on this router",
    '/user/group/add name=mtandao policy=read,write,api,test',
    '/user/add name=mtandao group=mtandao password="CHOOSE-A-PASSWORD"',
    `/container/envs/add list=mtandao key=MTANDAO_CONTROLLER_URL value=${ros(controllerUrl)}`,
    `/container/envs/add list=mtandao key=MTANDAO_ENROLL_TOKEN value=${ros(token)}`,
    `/container/envs/add list=mtandao key=MTANDAO_ROUTER_NAME value=${ros(routerName)}`,
    '/container/envs/add list=mtandao key=MTANDAO_ROUTER_HOST value=172.17.0.1',
    '/container/envs/add list=mtandao key=MTANDAO_ROUTER_USERNAME value=mtandao',
    '/container/envs/add list=mtandao key=MTANDAO_ROUTER_PASSWORD value="CHOOSE-A-PASSWORD"',
    '/container/mounts/add list=mtandao-state src=usb1/mtandao-agent dst=/var/lib/mtandao-agent',
    `/container/add remote-image=${agentImage ?? IMAGE_PLACEHOLDER} interface=veth-mtandao root-dir=usb1/mtandao-agent-root envlists=mtandao mountlists=mtandao-state logging=yes start-on-boot=yes comment=mtandao-agent`,
    '/container/start [find comment=mtandao-agent]',
  ].join('\n');
}
