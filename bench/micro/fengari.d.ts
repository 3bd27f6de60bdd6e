// fengari ships no types; the Lua VM comparison (lua-vms.ts) only calls its C-API mirror.
declare module 'fengari' {
  const fengari: any
  export default fengari
}
