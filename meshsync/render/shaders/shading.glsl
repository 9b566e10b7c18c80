// Shared by mesh.vert and mesh.frag (inserted after their #version and #defines by the renderer).
// Untextured rough materials get their final colour per vertex (PER_VERTEX); TEXTURE, EMISSIVE_TEXTURE and
// PIXEL_SPECULAR variants finish per pixel (a CPU rasteriser runs both sides of a branch). DETAIL variants
// (NORMAL_MAP, OCCLUSION_TEXTURE, METALLIC_ROUGHNESS_TEXTURE) and MTOON (VRM's toon ramp) light every pixel.
// UNLIT shows the base colour as it is (KHR_materials_unlit); ALPHA_MASK and ALPHA_BLEND are glTF's alpha modes.
#if defined(NORMAL_MAP) || defined(OCCLUSION_TEXTURE) || defined(METALLIC_ROUGHNESS_TEXTURE)
#define DETAIL
#define PIXEL_SPECULAR
#endif
#if !defined(TEXTURE) && !defined(PIXEL_SPECULAR) && !defined(EMISSIVE_TEXTURE) && !defined(MTOON)
#define PER_VERTEX
#endif
uniform vec3 light_dir[3];    // view space, pointing towards the light
uniform vec3 light_color[3];
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform float shininess;
uniform vec3 emissive;        // linear RGB factor

const float WRAP = 0.25;

// Hemisphere ambient for view-space normal n (up is the camera's up).
vec3 ambient(vec3 n) {
    return mix(ground_color, sky_color, 0.5 + 0.5 * n.y);
}

// Wrapped diffuse light from the key, fill and rim lights.
vec3 direct(vec3 n) {
    vec3 light = vec3(0.0);
    for (int i = 0; i < 3; ++i)
        light += light_color[i] * max((dot(n, light_dir[i]) + WRAP) / (1.0 + WRAP), 0.0);
    return light;
}

// The key light's normalised Blinn-Phong highlight for normal n, view direction v and exponent s.
vec3 highlight(vec3 n, vec3 v, float s) {
    vec3 h = normalize(light_dir[0] + v);
    return light_color[0] * 0.04 * (s + 8.0) / 25.1327 * pow(max(dot(n, h), 0.0), s) * max(dot(n, light_dir[0]), 0.0);
}

// A gentle roll-off of the brightest lit values (an unlit colour is shown as authored), then the sRGB
// transfer function (exact, as textures are decoded and three.js encodes); alpha is kept where it matters
// (mask and blend), 1 otherwise.
vec4 finish(vec3 colour, float alpha) {
#ifndef UNLIT
    colour = colour / (1.0 + 0.15 * colour);
#endif
#ifndef ALPHA_BLEND
    alpha = 1.0;  // opaque, and what a mask keeps is opaque too (glTF): frames stay opaque in PNGs
#endif
    colour = clamp(colour, 0.0, 1.0);
    vec3 encoded = mix(12.92 * colour, 1.055 * pow(colour, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, colour));
    return vec4(encoded, alpha);
}
