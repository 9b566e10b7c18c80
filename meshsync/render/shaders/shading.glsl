// Shared by mesh.vert and mesh.frag (inserted after their #version and #defines by the renderer).
// Untextured rough materials get their final colour per vertex (PER_VERTEX); TEXTURE and
// PIXEL_SPECULAR variants finish per pixel (a CPU rasteriser runs both sides of a branch).
#if !defined(TEXTURE) && !defined(PIXEL_SPECULAR)
#define PER_VERTEX
#endif
uniform vec3 light_dir[3];    // view space, pointing towards the light
uniform vec3 light_color[3];
uniform float shininess;

// The key light's normalised Blinn-Phong highlight for normal n and view direction v.
vec3 highlight(vec3 n, vec3 v) {
    vec3 h = normalize(light_dir[0] + v);
    return light_color[0] * 0.04 * (shininess + 8.0) / 25.1327 * pow(max(dot(n, h), 0.0), shininess)
           * max(dot(n, light_dir[0]), 0.0);
}

// A gentle roll-off of the brightest values, then sRGB encoding.
vec4 finish(vec3 colour) {
    colour = colour / (1.0 + 0.15 * colour);
    return vec4(pow(clamp(colour, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
