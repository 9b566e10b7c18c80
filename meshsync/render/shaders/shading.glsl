// Shared by mesh.vert and mesh.frag (inserted after their #version and #defines by the renderer).
// Untextured rough materials get their final colour per vertex (PER_VERTEX); TEXTURE, EMISSIVE_TEXTURE and
// PIXEL_SPECULAR variants finish per pixel (a CPU rasteriser runs both sides of a branch). UNLIT shows the
// base colour as it is (KHR_materials_unlit); ALPHA_MASK and ALPHA_BLEND are glTF's alpha modes.
#if !defined(TEXTURE) && !defined(PIXEL_SPECULAR) && !defined(EMISSIVE_TEXTURE)
#define PER_VERTEX
#endif
uniform vec3 light_dir[3];    // view space, pointing towards the light
uniform vec3 light_color[3];
uniform float shininess;
uniform vec3 emissive;        // linear RGB factor

// The key light's normalised Blinn-Phong highlight for normal n and view direction v.
vec3 highlight(vec3 n, vec3 v) {
    vec3 h = normalize(light_dir[0] + v);
    return light_color[0] * 0.04 * (shininess + 8.0) / 25.1327 * pow(max(dot(n, h), 0.0), shininess)
           * max(dot(n, light_dir[0]), 0.0);
}

// A gentle roll-off of the brightest lit values (an unlit colour is shown as authored), then the sRGB
// transfer function (exact, as textures are decoded and three.js encodes); alpha is kept where it matters
// (mask and blend), 1 otherwise.
vec4 finish(vec3 colour, float alpha) {
#ifndef UNLIT
    colour = colour / (1.0 + 0.15 * colour);
#endif
#if !defined(ALPHA_MASK) && !defined(ALPHA_BLEND)
    alpha = 1.0;
#endif
    colour = clamp(colour, 0.0, 1.0);
    vec3 encoded = mix(12.92 * colour, 1.055 * pow(colour, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, colour));
    return vec4(encoded, alpha);
}
